package serving

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// KServe annotations and labels kiln sets.
const (
	// DeploymentModeAnnotation selects Serverless or RawDeployment for one
	// InferenceService, whatever the cluster's default.
	DeploymentModeAnnotation = "serving.kserve.io/deploymentMode"
	// PrometheusAnnotation makes KServe annotate the model server pods
	// for Prometheus scraping (prometheus.io/scrape, port, path), merged
	// with the queue proxy's metrics in Serverless mode.
	PrometheusAnnotation = "serving.kserve.io/enable-prometheus-scraping"
	// TagRoutingAnnotation makes Knative address the latest revision as
	// latest-<name>-predictor, which the tester header routes to.
	TagRoutingAnnotation = "serving.kserve.io/enable-tag-routing"
	// VisibilityLabel "cluster-local" keeps KServe from exposing the
	// model itself: in RawDeployment mode only kiln's routes, which split
	// the canary, lead to it.
	VisibilityLabel = "networking.kserve.io/visibility"
	// StableStorageAnnotation records, for reviewers, the model the
	// stable share of a Serverless canary serves: KServe keeps serving
	// the revision last rolled out at 100%.
	StableStorageAnnotation = "kiln.dev/stable-storage-uri"
	// kservePort is the HTTP port of KServe's model servers.
	kservePort = 8080
)

// kserve renders an InferenceService. In Serverless mode one
// InferenceService carries the canary: KServe gives canaryTrafficPercent
// to the latest revision (the canary model) and the rest to the revision
// last rolled out at 100%. In RawDeployment mode KServe ignores
// canaryTrafficPercent, so the canary is a second InferenceService,
// <name>-canary, and kiln's VirtualService splits traffic between them.
func kserve(c *render.Context, e *entry) {
	if e.s.Credentials != nil && e.s.ServiceAccount == "" {
		storageServiceAccount(c, e)
	}
	if e.serverless() {
		c.Add(inferenceService(e, Stable), e.origin(c))
		return
	}
	for _, track := range e.tracks() {
		c.Add(inferenceService(e, track), e.origin(c))
	}
	c.Add(rawService(e), e.origin(c))
}

// inferenceService renders one track's InferenceService.
func inferenceService(e *entry, track string) *InferenceService {
	s := e.s
	ann := map[string]string{DeploymentModeAnnotation: s.DeploymentMode}
	if s.Metrics {
		ann[PrometheusAnnotation] = "true"
	}
	isvc := &InferenceService{
		TypeMeta:   metav1.TypeMeta{APIVersion: KServeAPIVersion, Kind: "InferenceService"},
		ObjectMeta: metav1.ObjectMeta{Name: e.trackName(track), Annotations: ann},
	}
	uri := e.storageURI(track)
	pred := Predictor{KServeComponent: e.component(track, RolePredictor, s.Resources)}
	if e.serverless() && s.Canary != nil {
		// The canary is the latest revision; the stable model is the
		// revision KServe rolled out at 100% before.
		uri = s.Canary.StorageURI
		pred.CanaryTrafficPercent = ptr(int64(s.Canary.Percent))
		ann[StableStorageAnnotation] = s.Model.StorageURI
		if x := s.Expose; x != nil && x.CanaryHeader != nil {
			ann[TagRoutingAnnotation] = "true"
		}
	}
	if !e.serverless() {
		isvc.Labels = map[string]string{VisibilityLabel: "cluster-local"}
	}
	vols, mounts := shm(e.env, s.Resources)
	pred.Volumes = vols
	if s.Model.Format == "custom" {
		ctr := corev1.Container{
			Name:  kserveDefaultModel,
			Image: s.Model.Image,
			Args:  s.Model.Args,
			// KServe's storage initializer downloads STORAGE_URI to
			// /mnt/models before the container starts.
			Env:             []corev1.EnvVar{{Name: "STORAGE_URI", Value: uri}},
			Ports:           []corev1.ContainerPort{{ContainerPort: int32(s.Model.Port), Protocol: corev1.ProtocolTCP}},
			Resources:       pod.Requirements(s.Resources),
			SecurityContext: pod.ContainerSecurityContext(s.Security),
			VolumeMounts:    mounts,
		}
		if s.Model.Health != "" {
			probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: s.Model.Health, Port: intstr.FromInt(s.Model.Port)}}}
			ctr.ReadinessProbe = probe
			live := *probe
			live.PeriodSeconds = 30
			live.FailureThreshold = 5
			ctr.LivenessProbe = &live
		}
		pred.Containers = []corev1.Container{ctr}
	} else {
		pred.Model = &ModelSpec{
			ModelFormat:     ModelFormat{Name: s.Model.Format},
			RuntimeVersion:  s.Model.RuntimeVersion,
			ProtocolVersion: s.Model.Protocol,
			StorageURI:      uri,
			Resources:       requirements(s.Resources),
			SecurityContext: pod.ContainerSecurityContext(s.Security),
			VolumeMounts:    mounts,
		}
	}
	isvc.Spec.Predictor = pred
	if t := s.Transformer; t != nil {
		var r ir.Resources
		if t.Resources != nil {
			r = *t.Resources
		}
		comp := e.component(track, RoleTransformer, r)
		comp.NodeSelector, comp.Tolerations = placement(e.env, r)
		comp.Containers = []corev1.Container{{
			Name:            kserveDefaultModel,
			Image:           t.Image,
			Command:         t.Command,
			Args:            t.Args,
			Resources:       pod.Requirements(r),
			SecurityContext: pod.ContainerSecurityContext(s.Security),
		}}
		isvc.Spec.Transformer = &comp
	}
	return isvc
}

// component is the pod and scaling part of one KServe component. Knative
// (Serverless) scales on concurrency, rps or cpu; RawDeployment renders a
// HorizontalPodAutoscaler on cpu or memory (Check reports other metrics).
func (e *entry) component(track, role string, r ir.Resources) KServeComponent {
	s := e.s
	comp := KServeComponent{
		MinReplicas:               i32(e.min),
		MaxReplicas:               int32(e.max),
		Labels:                    e.podLabels(track, role),
		ServiceAccountName:        e.serviceAccount(),
		SecurityContext:           pod.PodSecurityContext(s.Security),
		TopologySpreadConstraints: e.spread(track, role),
	}
	if a := s.Autoscale; a != nil {
		comp.ScaleMetric = a.Metric
		comp.ScaleTarget = i32(a.Target)
	}
	comp.NodeSelector, comp.Tolerations = placement(e.env, r)
	return comp
}

// rawService is the Service in front of both tracks of a RawDeployment
// model (its transformers, if it has them), which kiln's DestinationRule
// divides into stable and canary subsets. KServe's own Services
// (<name>-predictor, …) each reach one track only.
func rawService(e *entry) *corev1.Service {
	role, port := RolePredictor, kservePort
	if e.s.Transformer != nil {
		role = RoleTransformer
	} else if e.s.Model.Format == "custom" {
		port = e.s.Model.Port
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: e.serviceName()},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{LabelServing: e.obj, LabelRole: role},
			Ports: []corev1.ServicePort{{
				Name: "http", Port: 80, TargetPort: intstr.FromInt(port), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}
