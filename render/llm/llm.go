package llm

import (
	_ "embed"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
	"github.com/kiln-ml/kiln/render/serving"
)

// Component is the app.kubernetes.io/component of LLM objects: they are
// served models like any other.
const Component = serving.Component

// Kind is the LLMInferenceService descriptor.
var Kind = render.Kind{
	Group: "serving.kserve.io", Version: "v1alpha2", Kind: "LLMInferenceService", Plural: "llminferenceservices",
	Order: render.OrderWorkload, Health: health,
}

//go:embed health.lua
var health string

// Names KServe's LLM controller and its LLMInferenceServiceConfig
// templates (v0.20) use: the vLLM container, and the init container it
// adds to download hf:// and s3:// models.
const (
	mainContainer      = "main"
	storageInitializer = "storage-initializer"
)

// LLMInferenceService is serving.kserve.io/v1alpha2 LLMInferenceService,
// with only the fields kiln sets.
type LLMInferenceService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec `json:"spec"`
}

// Spec is the LLMInferenceService's spec.
type Spec struct {
	Model       Model           `json:"model"`
	Replicas    *int32          `json:"replicas,omitempty"`
	Parallelism *Parallelism    `json:"parallelism,omitempty"`
	Template    *corev1.PodSpec `json:"template,omitempty"`
	Worker      *corev1.PodSpec `json:"worker,omitempty"`
	Router      *Router         `json:"router,omitempty"`
}

// Model is the model served and the name it answers to.
type Model struct {
	URI  string `json:"uri"`
	Name string `json:"name,omitempty"`
}

// Parallelism is spec.parallelism.
type Parallelism struct {
	Tensor    *int32 `json:"tensor,omitempty"`
	Pipeline  *int32 `json:"pipeline,omitempty"`
	Data      *int32 `json:"data,omitempty"`
	DataLocal *int32 `json:"dataLocal,omitempty"`
	Expert    *bool  `json:"expert,omitempty"`
}

// Router is spec.router: an empty route and gateway ask the controller to
// manage an HTTPRoute on the configured Gateway; an empty scheduler, to
// run the Inference Extension's endpoint picker with its defaults.
type Router struct {
	Route     *Route     `json:"route,omitempty"`
	Gateway   *Gateway   `json:"gateway,omitempty"`
	Scheduler *Scheduler `json:"scheduler,omitempty"`
}

// Route is spec.router.route. Members of a group share traffic by weight.
type Route struct {
	Group  string `json:"group,omitempty"`
	Weight *int32 `json:"weight,omitempty"`
}

// Gateway is spec.router.gateway.
type Gateway struct {
	Refs []GatewayRef `json:"refs,omitempty"`
}

// GatewayRef names a Gateway API Gateway.
type GatewayRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// Scheduler is spec.router.scheduler; kiln keeps KServe's defaults.
type Scheduler struct{}

// Renderer renders serving entries with an llm served as
// LLMInferenceServices.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "llm" }

// Kinds implements render.KindDeclarer.
func (Renderer) Kinds() []render.Kind { return []render.Kind{Kind} }

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	var out diag.List
	entries := c.Env.Spec.Serving
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		s := entries[name]
		if s.LLM == nil {
			continue
		}
		path := ir.Path("serving", name)
		if !s.ServesLLMService() {
			checkInferenceService(c, path, s)
			continue
		}
		problems := pod.Errors(c.Env.Sources, path, pod.ResourceProblems(c.Env, s.Resources))
		out.Add(problems...)
		if !Check(c, path, s) || len(problems) > 0 {
			continue
		}
		c.NeedPodSecurity(path, s.Security)
		c.NeedResources(s.Resources)
		obj := render.ObjectName(name)
		origin := c.Origin(path, Component, obj)
		origin.PodSecurity = render.PodSecurityOf(s.Security)
		if s.Credentials != nil && s.ServiceAccount == "" {
			c.Add(&corev1.ServiceAccount{
				TypeMeta:                     metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
				ObjectMeta:                   metav1.ObjectMeta{Name: storageAccount(obj)},
				Secrets:                      []corev1.ObjectReference{{Name: s.Credentials.Secret}},
				AutomountServiceAccountToken: new(false),
			}, c.Origin(ir.Join(path, "credentials"), Component, obj))
		}
		c.Add(Object(c.Env, name, s, serving.Stable), origin)
		if s.Canary != nil {
			co := c.Origin(ir.Join(path, "canary"), Component, obj)
			co.PodSecurity = origin.PodSecurity
			c.Add(Object(c.Env, name, s, serving.Canary), co)
		}
	}
	return out
}

func storageAccount(obj string) string { return obj + "-storage" }

// Replicas is how many replicas of each version run: the minimum, raised
// to serving.MinProductionReplicas in production. (LLMInferenceService
// autoscaling needs the Workload Variant Autoscaler; Check refuses a range.)
func Replicas(env *ir.Environment, s *ir.Serving) int {
	n := s.Replicas.Min
	if env.Production && n < serving.MinProductionReplicas {
		n = serving.MinProductionReplicas
	}
	return max(n, 1)
}

// Object renders one version (serving.Stable or serving.Canary) of an
// entry.
func Object(env *ir.Environment, name string, s *ir.Serving, track string) *LLMInferenceService {
	l := s.LLM
	obj := render.ObjectName(name)
	uri := s.Model.StorageURI
	if track == serving.Canary {
		obj += "-canary"
		uri = s.Canary.StorageURI
	}
	model := l.Name
	if model == "" {
		model = name
	}
	spec := Spec{
		Model:       Model{URI: uri, Name: model},
		Replicas:    i32(Replicas(env, s)),
		Parallelism: parallelism(s),
		Template:    podSpec(env, s, render.ObjectName(name), uri, true),
		Router:      &Router{Route: &Route{}, Gateway: &Gateway{}},
	}
	if l.Nodes > 1 {
		spec.Worker = podSpec(env, s, render.ObjectName(name), uri, false)
	}
	if l.Scheduler {
		spec.Router.Scheduler = &Scheduler{}
	}
	if ns, gw, ok := strings.Cut(l.Gateway, "/"); ok {
		spec.Router.Gateway.Refs = []GatewayRef{{Name: gw, Namespace: ns}}
	}
	if s.Canary != nil {
		// Both versions are members of one route group named after the
		// entry: the controller writes each member's HTTPRoute with
		// weighted backendRefs to every member.
		w := s.Canary.Stable()
		if track == serving.Canary {
			w = s.Canary.Percent
		}
		spec.Router.Route = &Route{Group: render.ObjectName(name), Weight: i32(w)}
	}
	meta := metav1.ObjectMeta{Name: obj}
	// Where the model came from: the run that produced it.
	if l := serving.Lineage(s, track); l != "" {
		meta.Annotations = map[string]string{lineage.Annotation: l}
	}
	return &LLMInferenceService{
		TypeMeta:   metav1.TypeMeta{APIVersion: Kind.APIVersion(), Kind: Kind.Kind},
		ObjectMeta: meta,
		Spec:       spec,
	}
}

// parallelism is spec.parallelism; tensor defaults to every GPU of a node
// (divided among its data-parallel ranks), which is what a replica on
// that many GPUs is for.
func parallelism(s *ir.Serving) *Parallelism {
	p := ir.LLMParallelism{}
	if s.LLM.Parallelism != nil {
		p = *s.LLM.Parallelism
	}
	if p.Tensor == 0 && s.Resources.GPUs > 1 {
		p.Tensor = s.Resources.GPUs / max(p.DataLocal, 1)
	}
	out := &Parallelism{Tensor: opt(p.Tensor), Pipeline: opt(p.Pipeline), Data: opt(p.Data), DataLocal: opt(p.DataLocal), Expert: p.Expert}
	if *out == (Parallelism{}) {
		return nil
	}
	return out
}

// podSpec is what kiln adds to the controller's template for the leader
// (or only) pod, or a worker: GPUs, placement, the security context of
// vLLM's container and of the storage-initializer, vLLM's arguments.
func podSpec(env *ir.Environment, s *ir.Serving, entry, uri string, leader bool) *corev1.PodSpec {
	main := corev1.Container{
		Name:            mainContainer,
		Image:           s.LLM.Image,
		Resources:       pod.Requirements(s.Resources),
		SecurityContext: pod.ContainerSecurityContext(s.Security),
	}
	if leader {
		if s.LLM.MaxModelLength > 0 {
			main.Args = append(main.Args, "--max-model-len="+strconv.Itoa(s.LLM.MaxModelLength))
		}
		main.Args = append(main.Args, s.LLM.Args...)
	}
	ps := &corev1.PodSpec{
		Containers:      []corev1.Container{main},
		SecurityContext: pod.PodSecurityContext(s.Security),
	}
	// The controller adds a storage-initializer for every model but a
	// pvc:// one, which it mounts.
	if !strings.HasPrefix(uri, "pvc://") {
		ps.InitContainers = []corev1.Container{{Name: storageInitializer, SecurityContext: pod.ContainerSecurityContext(s.Security)}}
	}
	switch {
	case s.ServiceAccount != "":
		ps.ServiceAccountName = s.ServiceAccount
	case s.Credentials != nil:
		ps.ServiceAccountName = storageAccount(entry)
	}
	pod.Place(env, ps, s.Resources)
	return ps
}

func i32(v int) *int32 { n := int32(v); return &n }

func opt(v int) *int32 {
	if v == 0 {
		return nil
	}
	return i32(v)
}
