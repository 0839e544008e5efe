package serving

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// KServe annotations and labels kiln sets.
const (
	// DeploymentModeAnnotation selects Knative or Standard for one
	// InferenceService, whatever the cluster's default.
	DeploymentModeAnnotation = "serving.kserve.io/deploymentMode"
	// PrometheusAnnotation makes KServe annotate the model server pods
	// for Prometheus scraping (prometheus.io/scrape, port, path), merged
	// with the queue proxy's metrics in Knative mode.
	PrometheusAnnotation = "serving.kserve.io/enable-prometheus-scraping"
	// VisibilityLabel "cluster-local" keeps KServe from publishing the
	// model on its ingress gateway and domain: only kiln's routes, which
	// split the canary and carry the timeout, retries and TLS, lead to it.
	VisibilityLabel = "networking.kserve.io/visibility"
	// KnativeVisibilityLabel "cluster-local" does the same for the Knative
	// Services KServe creates in Knative mode (KServe copies the
	// InferenceService's labels onto them), so Knative publishes no
	// <name>-predictor host on its public domain either.
	KnativeVisibilityLabel = "networking.knative.dev/visibility"
	// kservePort is the HTTP port of KServe's model servers.
	kservePort = 8080
	// storageInitializer is the name of the init container KServe injects
	// to download a model.
	storageInitializer = "storage-initializer"
)

// kserve renders an InferenceService per track: the stable model, and the
// canary as a second InferenceService, <name>-canary. Neither mode leaves
// the split to KServe: in Standard mode KServe ignores
// canaryTrafficPercent, and in Knative mode it splits only once a
// revision has been rolled out at 100% (on a first sync or a rebuilt
// cluster the canary would take all traffic and the stable model never
// run). kiln's VirtualServices split between the two.
func kserve(c *render.Context, e *entry) {
	if e.s.Credentials != nil && e.s.ServiceAccount == "" {
		storageServiceAccount(c, e)
	}
	for _, track := range e.tracks() {
		c.Add(inferenceService(e, track), e.origin(c))
	}
	if e.serverless() {
		c.Add(serverlessService(e), e.origin(c))
		return
	}
	c.Add(rawService(e), e.origin(c))
}

// downloads reports whether KServe downloads uri with its
// storage-initializer; pvc:// models are mounted instead.
func downloads(uri string) bool { return !strings.HasPrefix(uri, "pvc://") }

// StorageContainerName is the ClusterStorageContainer kiln renders for an
// environment's namespace.
func StorageContainerName(namespace string) string { return "kiln-" + namespace }

// storageContainer renders the ClusterStorageContainer that gives the
// storage-initializer KServe injects the restricted security context. The
// KServe webhook (v0.20 storage_initializer_injector.go) builds that
// container with no security context and merges into it the container of
// the ClusterStorageContainer the predictor names in storageContainerName,
// which must support the URI. It supports exactly the URIs this namespace
// serves, so KServe's own matching by URI, which other namespaces use,
// keeps picking its default for everything else.
func storageContainer(c *render.Context, uris []string) {
	slices.Sort(uris)
	uris = slices.Compact(uris)
	if len(uris) == 0 {
		return
	}
	var formats []SupportedURIFormat
	for _, u := range uris {
		formats = append(formats, SupportedURIFormat{Prefix: u})
	}
	restricted := pod.ContainerSecurityContext(ir.Security{Profile: "restricted"})
	restricted.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	c.Add(&ClusterStorageContainer{
		TypeMeta:   metav1.TypeMeta{APIVersion: KServeAlphaAPIVersion, Kind: "ClusterStorageContainer"},
		ObjectMeta: metav1.ObjectMeta{Name: StorageContainerName(c.Env.Namespace)},
		Spec: StorageContainerSpec{
			Container:           corev1.Container{Name: storageInitializer, SecurityContext: restricted},
			SupportedURIFormats: formats,
			WorkloadType:        "initContainer",
		},
	}, c.Origin(ir.Path("serving"), Component, StorageContainerName(c.Env.Namespace)))
}

// inferenceService renders one track's InferenceService.
func inferenceService(e *entry, track string) *InferenceService {
	s := e.s
	ann := map[string]string{DeploymentModeAnnotation: e.kmode}
	if s.Metrics {
		ann[PrometheusAnnotation] = "true"
	}
	// Where the model came from: the run that produced it.
	if l := Lineage(s, track); l != "" {
		ann[lineage.Annotation] = l
	}
	labels := map[string]string{VisibilityLabel: "cluster-local"}
	if e.serverless() {
		labels[KnativeVisibilityLabel] = "cluster-local"
	}
	isvc := &InferenceService{
		TypeMeta:   metav1.TypeMeta{APIVersion: KServeAPIVersion, Kind: "InferenceService"},
		ObjectMeta: metav1.ObjectMeta{Name: e.trackName(track), Annotations: ann, Labels: labels},
	}
	uri := e.storageURI(track)
	pred := Predictor{KServeComponent: e.component(track, RolePredictor, s.Resources)}
	if downloads(uri) {
		pred.StorageContainerName = StorageContainerName(e.env.Namespace)
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
			Resources:       modelRequirements(s.Resources),
			SecurityContext: pod.ContainerSecurityContext(s.Security),
			VolumeMounts:    mounts,
			Args:            huggingfaceArgs(e),
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

// modelRequirements are the resources of a model server KServe runs from
// a ServingRuntime. KServe merges the predictor's model container into
// the runtime's container (a strategic merge: every key kiln leaves out
// keeps the runtime's value), and the runtimes KServe ships limit CPU
// (kserve-torchserve and kserve-mlserver: 1 CPU). Were kiln to leave the
// CPU limit out, as it does for other pods, the runtime's would stay:
// below the request, the Deployment or Knative Service is invalid
// ("must be less than or equal to cpu limit") and the model never runs;
// above it, the model is throttled at a limit the spec never named. So a
// model server's CPU is limited at its request, as memory is.
func modelRequirements(r ir.Resources) *corev1.ResourceRequirements {
	rr := requirements(r)
	if rr == nil {
		return nil
	}
	if cpu, ok := rr.Requests[corev1.ResourceCPU]; ok {
		if rr.Limits == nil {
			rr.Limits = corev1.ResourceList{}
		}
		rr.Limits[corev1.ResourceCPU] = cpu
	}
	return rr
}

// component is the pod and scaling part of one KServe component. Knative
// (Knative mode) scales on concurrency, rps or cpu; Standard-mode renders a
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

// serverlessService is the name in front of both tracks of a Knative-mode
// model for callers in the mesh: like the Service KServe creates for each
// InferenceService, an ExternalName of Knative's local gateway, which
// kiln's mesh VirtualService splits between the tracks' hosts.
func serverlessService(e *entry) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: e.serviceName()},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: knativeLocalGateway,
			Ports:        []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt(80), Protocol: corev1.ProtocolTCP}},
		},
	}
}

// rawService is the Service in front of both tracks of a Standard-mode
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
