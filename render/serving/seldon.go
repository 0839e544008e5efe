package serving

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// SeldonServers maps model formats to Seldon Core v1's prepackaged model
// servers. Formats missing here need format "custom" under Seldon.
var SeldonServers = map[string]string{
	"sklearn":     "SKLEARN_SERVER",
	"xgboost":     "XGBOOST_SERVER",
	"tensorflow":  "TENSORFLOW_SERVER",
	"huggingface": "HUGGINGFACE_SERVER",
	"triton":      "TRITON_SERVER",
	"onnx":        "TRITON_SERVER",
	"pytorch":     "TRITON_SERVER",
}

// Seldon's graph node name: its container carries the same name, which is
// how Seldon merges kiln's resources and security settings into the
// prepackaged server's container.
const (
	seldonNode = "model"
	// seldonHTTPPort is the HTTP port of the Service Seldon creates for
	// each predictor, <name>-<predictor>.
	seldonHTTPPort = 8000
)

// seldon renders a SeldonDeployment: a "default" predictor with the
// stable model and, with a canary, a "canary" predictor; each gets its
// share as traffic. Seldon renders the HorizontalPodAutoscalers and
// PodDisruptionBudgets from hpaSpec and pdbSpec.
func seldon(c *render.Context, e *entry) {
	s := e.s
	sd := &SeldonDeployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: SeldonAPIVersion, Kind: "SeldonDeployment"},
		ObjectMeta: metav1.ObjectMeta{Name: e.obj},
	}
	if s.Model.Protocol == "v2" {
		sd.Spec.Protocol = "v2"
	} else {
		sd.Spec.Protocol = "seldon"
	}
	for _, track := range e.tracks() {
		sd.Spec.Predictors = append(sd.Spec.Predictors, e.seldonPredictor(track))
	}
	c.Add(sd, e.origin(c))
}

// seldonPredictorName is a track's predictor name.
func seldonPredictorName(track string) string {
	if track == Canary {
		return "canary"
	}
	return "default"
}

func (e *entry) seldonPredictor(track string) SeldonPredictor {
	s := e.s
	g := SeldonGraph{Name: seldonNode, Type: "MODEL", ModelURI: e.storageURI(track)}
	ctr := corev1.Container{
		Name:            seldonNode,
		Resources:       pod.Requirements(s.Resources),
		SecurityContext: pod.ContainerSecurityContext(s.Security),
	}
	if s.Model.Format == "custom" {
		ctr.Image = s.Model.Image
		ctr.Args = s.Model.Args
	} else {
		g.Implementation = SeldonServers[s.Model.Format]
	}
	if s.Credentials != nil {
		g.EnvSecretRefName = s.Credentials.Secret
	}
	ps := corev1.PodSpec{
		Containers:                   []corev1.Container{ctr},
		ServiceAccountName:           e.serviceAccount(),
		AutomountServiceAccountToken: new(false),
		SecurityContext:              pod.PodSecurityContext(s.Security),
		TopologySpreadConstraints:    e.spread(track, RolePredictor),
	}
	pod.Place(e.env, &ps, s.Resources)
	if vols, mounts := shm(e.env, s.Resources); vols != nil {
		ps.Volumes = vols
		ps.Containers[0].VolumeMounts = mounts
	}
	meta := &SeldonMeta{Labels: e.podLabels(track, RolePredictor)}
	if s.Metrics {
		// Seldon's executor serves the model's and its own metrics.
		meta.Annotations = map[string]string{
			"prometheus.io/scrape": "true",
			"prometheus.io/port":   "8000",
			"prometheus.io/path":   "/prometheus",
		}
	}
	cs := SeldonComponentSpec{Metadata: meta, Spec: ps}
	p := SeldonPredictor{
		Name:    seldonPredictorName(track),
		Graph:   g,
		Traffic: int32(e.weight(track)),
	}
	if e.min == e.max {
		p.Replicas = i32(e.min)
	} else {
		metric, target := "cpu", defaultCPUTarget
		if a := s.Autoscale; a != nil {
			metric, target = a.Metric, a.Target
		}
		cs.HPASpec = &SeldonHPASpec{
			MinReplicas: i32(e.min),
			MaxReplicas: int32(e.max),
			Metrics:     []SeldonMetric{{Type: "Resource", Resource: SeldonResourceMetric{Name: metric, TargetAverageUtilization: i32(target)}}},
		}
	}
	if e.env.Production {
		one := intstr.FromInt32(1)
		cs.PDBSpec = &SeldonPDBSpec{MaxUnavailable: &one}
	}
	p.ComponentSpecs = []SeldonComponentSpec{cs}
	return p
}
