package serving

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// TF Serving's image, ports and paths.
const (
	TFServingImage   = "tensorflow/serving"
	TFServingVersion = "2.18.0"
	tfGRPCPort       = 8500
	tfRESTPort       = 8501
	tfMetricsPath    = "/monitoring/prometheus/metrics"
	tfConfigDir      = "/etc/tfserving"
	tfModelDir       = "/models"
	// tfCredentialDir holds the GCS key file; tfCredentialKey is the
	// Secret key read when the entry names none.
	tfCredentialDir = "/var/run/secrets/kiln/model"
	tfCredentialKey = "key.json"
	// defaultCPUTarget is the CPU utilization (percent of the request) a
	// HorizontalPodAutoscaler aims at when the entry names no target.
	defaultCPUTarget = 80
)

// tfserving renders TF Serving: a Deployment per track, one Service in
// front of both (gRPC 8500, REST 8501; kiln's DestinationRule divides it
// into stable and canary subsets), a HorizontalPodAutoscaler per track
// when replicas may vary, and the monitoring config that turns on TF
// Serving's Prometheus endpoint.
func tfserving(c *render.Context, e *entry) {
	if e.s.Metrics {
		c.Add(&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: e.obj + "-tfserving"},
			Data:       map[string]string{"monitoring.config": "prometheus_config {\n  enable: true\n  path: \"" + tfMetricsPath + "\"\n}\n"},
		}, e.origin(c))
	}
	for _, track := range e.tracks() {
		c.Add(tfDeployment(e, track), e.origin(c))
		if hpa := e.hpa(track); hpa != nil {
			c.Add(hpa, e.origin(c))
		}
	}
	c.Add(tfService(e), e.origin(c))
}

// tfService is the Service in front of every track's TF Serving pods.
func tfService(e *entry) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: e.serviceName()},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{LabelServing: e.obj, LabelRole: RolePredictor},
			Ports: []corev1.ServicePort{
				{Name: "grpc", Port: tfGRPCPort, TargetPort: intstr.FromString("grpc"), Protocol: corev1.ProtocolTCP},
				{Name: "http", Port: tfRESTPort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP},
			},
		},
	}
}

// tfDeployment is one track's TF Serving Deployment.
func tfDeployment(e *entry, track string) *appsv1.Deployment {
	s := e.s
	image := TFServingImage + ":" + TFServingVersion
	if s.Model.RuntimeVersion != "" {
		image = TFServingImage + ":" + s.Model.RuntimeVersion
	}
	if s.Resources.GPUs > 0 && !strings.HasSuffix(image, "-gpu") {
		image += "-gpu"
	}
	base := e.storageURI(track)
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	if rest, ok := strings.CutPrefix(base, "pvc://"); ok {
		// TF Serving reads a volume: mount the claim's model directory.
		claim, sub, _ := strings.Cut(rest, "/")
		volumes = append(volumes, corev1.Volume{Name: "model", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: true},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: "model", MountPath: tfModelDir + "/" + e.obj, SubPath: strings.Trim(sub, "/"), ReadOnly: true})
		base = tfModelDir + "/" + e.obj
	}
	args := []string{
		"--port=8500",
		"--rest_api_port=8501",
		"--model_name=" + e.obj,
		"--model_base_path=" + base,
	}
	if s.Metrics {
		args = append(args, "--monitoring_config_file="+tfConfigDir+"/monitoring.config")
		volumes = append(volumes, corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: e.obj + "-tfserving"}},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: "config", MountPath: tfConfigDir, ReadOnly: true})
	}
	args = append(args, s.Model.Args...)
	ps := pod.Spec(e.env, pod.Input{
		Container:      "tfserving",
		Image:          image,
		Args:           args,
		Resources:      s.Resources,
		Security:       s.Security,
		ServiceAccount: e.serviceAccount(),
		Ports: []corev1.ContainerPort{
			{Name: "grpc", ContainerPort: tfGRPCPort, Protocol: corev1.ProtocolTCP},
			{Name: "http", ContainerPort: tfRESTPort, Protocol: corev1.ProtocolTCP},
		},
	})
	ctr := &ps.Containers[0]
	ctr.VolumeMounts = append(ctr.VolumeMounts, mounts...)
	ps.Volumes = append(ps.Volumes, volumes...)
	if cr := s.Credentials; cr != nil && strings.HasPrefix(base, "gs://") {
		// TensorFlow's GCS file system reads a service account key file
		// named by GOOGLE_APPLICATION_CREDENTIALS: mount the Secret's key.
		key := cr.Key
		if key == "" {
			key = tfCredentialKey
		}
		ps.Volumes = append(ps.Volumes, corev1.Volume{Name: "credentials", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: cr.Secret, Items: []corev1.KeyToPath{{Key: key, Path: key}}},
		}})
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: "credentials", MountPath: tfCredentialDir, ReadOnly: true})
		ctr.Env = append(ctr.Env, corev1.EnvVar{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: tfCredentialDir + "/" + key})
	}
	// Ready once the model is loaded; alive while the gRPC port answers
	// (a large model can take minutes to load, hence the startup probe).
	ctr.ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/v1/models/" + e.obj, Port: intstr.FromString("http")}},
		PeriodSeconds: 10,
	}
	ctr.StartupProbe = &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("grpc")}},
		PeriodSeconds:    10,
		FailureThreshold: 30,
	}
	ctr.LivenessProbe = &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("grpc")}},
		PeriodSeconds:    20,
		FailureThreshold: 3,
	}
	ps.TopologySpreadConstraints = e.spread(track, RolePredictor)
	tmpl := corev1.PodTemplateSpec{Spec: ps}
	tmpl.Labels = e.podLabels(track, RolePredictor)
	if s.Metrics {
		tmpl.Annotations = map[string]string{
			"prometheus.io/scrape": "true",
			"prometheus.io/port":   "8501",
			"prometheus.io/path":   tfMetricsPath,
		}
	}
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: e.trackName(track)},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: e.selector(track, RolePredictor)},
			Template: tmpl,
		},
	}
	if e.min == e.max {
		d.Spec.Replicas = i32(e.min)
	}
	return d
}

// hpa is a track's HorizontalPodAutoscaler, nil when replicas are fixed:
// CPU or memory utilization, as a percent of the request.
func (e *entry) hpa(track string) *autoscalingv2.HorizontalPodAutoscaler {
	if e.min == e.max {
		return nil
	}
	metric, target := "cpu", defaultCPUTarget
	if a := e.s.Autoscale; a != nil {
		metric, target = a.Metric, a.Target
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: e.trackName(track)},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: e.trackName(track)},
			MinReplicas:    i32(e.min),
			MaxReplicas:    int32(e.max),
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceName(metric),
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: i32(target)},
				},
			}},
		},
	}
}

// serviceName is the Service kiln renders in front of a model's tracks.
func (e *entry) serviceName() string {
	if e.s.Runtime == "kserve" {
		return e.obj + "-serving"
	}
	return e.obj
}

// servicePort is the port of that Service kiln routes HTTP to.
func (e *entry) servicePort() uint32 {
	if e.s.Runtime == "tfserving" {
		return tfRESTPort
	}
	return 80
}
