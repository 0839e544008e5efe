package serving

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// Component is the app.kubernetes.io/component of serving objects.
const Component = "serving"

// Pod labels kiln puts on every model server pod, whatever runs it, so
// Services, DestinationRule subsets, PodDisruptionBudgets, topology
// spreading and AuthorizationPolicies select pods the same way.
const (
	// LabelServing is the serving entry's object name.
	LabelServing = "kiln.dev/serving"
	// LabelTrack is "stable" or "canary".
	LabelTrack = "kiln.dev/track"
	// LabelRole is "predictor" or "transformer".
	LabelRole = "kiln.dev/role"
	// sidecarInject puts the pod in the mesh, so mTLS, routing and
	// authorization apply to it.
	sidecarInject = "sidecar.istio.io/inject"
)

// Tracks of a model: the stable version and the canary.
const (
	Stable = "stable"
	Canary = "canary"
)

// Renderer renders serving entries.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "serving" }

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	// Entries served as an LLMInferenceService are render/llm's.
	entries := maps.Clone(c.Env.Spec.Serving)
	maps.DeleteFunc(entries, func(_ string, s *ir.Serving) bool { return s.ServesLLMService() })
	if len(entries) == 0 {
		return nil
	}
	routes := map[string]string{}
	var warnings diag.List
	var downloaded []string // model URIs KServe's storage-initializer downloads
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		e := newEntry(c, name, entries[name])
		c.NeedPodSecurity(e.path, e.s.Security)
		c.NeedResources(e.s.Resources)
		// Seldon Core v1 adds its executor (seldon-container-engine)
		// with only runAsUser and allowPrivilegeEscalation set, so
		// capabilities are not dropped, and a model initializer with no
		// securityContext at all; nothing in a SeldonDeployment
		// configures either.
		if e.s.Runtime == "seldon" && e.s.Security.Restricted() {
			c.NeedBaseline(render.BaselineReason{Path: ir.Join(e.path, "runtime"), Controller: true,
				Why: "Seldon Core adds its executor without dropping capabilities and a model initializer without a securityContext, which restricted rejects and no SeldonDeployment setting changes"})
		}
		if e.oldMode && e.s.Runtime == "kserve" {
			p := ir.Join(e.path, "deploymentMode")
			warnings.Add(diag.Warnf(c.Env.Sources.Pos(p), p, "%s is KServe's old name for %s, which it still accepts: kiln renders %s; write deploymentMode: %q", e.s.DeploymentMode, e.kmode, e.kmode, e.kmode))
		}
		Check(c, e)
		checkRoute(c, routes, e)
		switch e.s.Runtime {
		case "kserve":
			kserve(c, e)
			for _, track := range e.tracks() {
				if uri := e.storageURI(track); downloads(uri) {
					downloaded = append(downloaded, uri)
				}
			}
		case "tfserving":
			tfserving(c, e)
		case "seldon":
			seldon(c, e)
		default:
			c.Errorf(ir.Join(e.path, "runtime"), "runtime %q is not one kiln renders (kserve, tfserving, seldon)", e.s.Runtime)
			continue
		}
		if c.Env.Ingress.GatewayAPI() {
			gatewayAPI(c, e)
			warnings = append(warnings, gatewayAPIWarnings(c, e)...)
			if c.Env.Production {
				disruptionBudget(c, e)
			}
			continue
		}
		istio(c, e)
		if e.serverless() && e.s.Access != nil {
			warnings.Add(diag.Warnf(c.Env.Sources.Pos(ir.Join(e.path, "access")), ir.Join(e.path, "access"), "in Knative mode access cannot tell callers apart: every request reaches the model through Knative's local gateway (%s) or activator (%s), so the model's AuthorizationPolicy sees their identity, not the caller's; it only keeps out callers that bypass them. Use deploymentMode \"Standard\" for access to hold", istioNamespace, knativeNamespace))
		}
		if c.Env.Production {
			disruptionBudget(c, e)
		}
	}
	storageContainer(c, downloaded)
	// Mutual TLS for the whole namespace once it serves models: the
	// AuthorizationPolicies name callers by their mTLS identity, which a
	// plaintext request does not have.
	if !c.Env.Ingress.Istio() {
		return warnings
	}
	c.Add(StrictMTLS(), c.Origin(ir.Path("environments", c.Env.Name), Component, c.System.Name))
	return warnings
}

// entry is a serving entry with what every renderer derives from it.
type entry struct {
	name string // the spec's name
	obj  string // the object name: '_' becomes '-'
	path string // serving.<name>
	s    *ir.Serving
	sys  *ir.System
	env  *ir.Environment
	// min and max replicas after the environment's rules: production
	// environments run at least 2.
	min, max int
	// kmode is the KServe deployment mode by its current name.
	kmode string
	// oldMode is set when the spec names the mode by its deprecated name.
	oldMode bool
}

func newEntry(c *render.Context, name string, s *ir.Serving) *entry {
	e := &entry{name: name, obj: render.ObjectName(name), path: ir.Path("serving", name), s: s, sys: c.System, env: c.Env}
	e.kmode, e.oldMode = Mode(s.DeploymentMode)
	e.min, e.max = s.Replicas.Min, s.Replicas.Max
	if c.Env.Production && e.min < MinProductionReplicas {
		e.min = MinProductionReplicas
	}
	if !e.serverless() && e.min < 1 {
		e.min = 1
	}
	if e.max < e.min {
		e.max = e.min
	}
	return e
}

// MinProductionReplicas is the fewest replicas a model runs with in a
// production environment: one can be drained while the other serves.
const MinProductionReplicas = 2

// serverless reports whether KServe runs the model on Knative.
func (e *entry) serverless() bool {
	return e.s.Runtime == "kserve" && e.kmode == ModeKnative
}

// KServe's deployment modes, as KServe v0.20 names them
// (serving.kserve.io/deploymentMode), and the old names it still accepts.
const (
	ModeKnative  = "Knative"
	ModeStandard = "Standard"
)

// oldModeNames maps the deprecated mode names to the current ones.
var oldModeNames = map[string]string{"Serverless": ModeKnative, "RawDeployment": ModeStandard}

// Mode returns the current name of a deploymentMode and whether the spec
// used a deprecated one.
func Mode(m string) (string, bool) {
	if n, ok := oldModeNames[m]; ok {
		return n, true
	}
	return m, false
}

// tracks lists the versions served: stable, and canary when there is one.
func (e *entry) tracks() []string {
	if e.s.Canary != nil {
		return []string{Stable, Canary}
	}
	return []string{Stable}
}

// storageURI is the model location of a track.
func (e *entry) storageURI(track string) string {
	if track == Canary {
		return e.s.Canary.StorageURI
	}
	return e.s.Model.StorageURI
}

// Lineage is the lineage record URI of a track's model, "" if it has
// none; the model server carries it as the lineage.Annotation.
func Lineage(s *ir.Serving, track string) string {
	if track == Canary {
		return s.Canary.Lineage
	}
	return s.Model.Lineage
}

// trackName is the name of a track's objects: <obj> or <obj>-canary.
func (e *entry) trackName(track string) string {
	if track == Canary {
		return e.obj + "-canary"
	}
	return e.obj
}

// weight is the share of traffic of a track.
func (e *entry) weight(track string) int {
	if e.s.Canary == nil {
		return 100
	}
	if track == Canary {
		return e.s.Canary.Percent
	}
	return e.s.Canary.Stable()
}

// podLabels are the labels of the pods of one track and role.
func (e *entry) podLabels(track, role string) map[string]string {
	l := map[string]string{
		LabelServing:          e.obj,
		LabelRole:             role,
		LabelTrack:            track,
		sidecarInject:         "true",
		render.LabelName:      e.obj,
		render.LabelPartOf:    e.sys.Name,
		render.LabelComponent: Component,
		render.LabelManagedBy: render.ManagedBy,
	}
	return l
}

// selector selects the pods of one track and role (in Knative mode,
// every revision of that track's InferenceService).
func (e *entry) selector(track, role string) map[string]string {
	return map[string]string{LabelServing: e.obj, LabelRole: role, LabelTrack: track}
}

// serviceAccount is the service account model pods run as: the entry's
// own, else the one kiln renders for its credentials, else the system's
// workload account (no permissions, no token).
func (e *entry) serviceAccount() string {
	switch {
	case e.s.ServiceAccount != "":
		return e.s.ServiceAccount
	case e.s.Credentials != nil && e.s.Runtime == "kserve":
		return e.obj + "-storage"
	}
	return render.WorkloadServiceAccount(e.sys)
}

// origin is the origin of the entry's objects.
func (e *entry) origin(c *render.Context) render.Origin {
	o := c.Origin(e.path, Component, e.obj)
	o.PodSecurity = render.PodSecurityOf(e.s.Security)
	return o
}

// gpus returns the GPUs the entry may use at once: every replica of every
// track at the autoscaler's maximum, and a breakdown for messages.
func (e *entry) gpus() (int, string) {
	per := e.s.Resources.GPUs
	n := len(e.tracks())
	total := per * e.max * n
	b := plural(e.max, "replica") + " × " + count(per, e.s.Resources)
	if n > 1 {
		b += " × 2 versions, stable and canary"
	}
	if t := e.s.Transformer; t != nil && t.Resources != nil && t.Resources.GPUs > 0 {
		total += t.Resources.GPUs * e.max * n
		b += " + transformers"
	}
	return total, b
}

// placement is the node selector and tolerations of pods with r.
func placement(env *ir.Environment, r ir.Resources) (map[string]string, []corev1.Toleration) {
	var ps corev1.PodSpec
	pod.Place(env, &ps, r)
	return ps.NodeSelector, ps.Tolerations
}

// requirements returns the resource requirements, or nil for none.
func requirements(r ir.Resources) *corev1.ResourceRequirements {
	rr := pod.Requirements(r)
	if rr.Requests == nil && rr.Limits == nil {
		return nil
	}
	return &rr
}

// shm returns the /dev/shm volume and mount of r, if it asks for one.
func shm(env *ir.Environment, r ir.Resources) ([]corev1.Volume, []corev1.VolumeMount) {
	if r.SHM == "" {
		return nil, nil
	}
	vols := pod.Volumes(env, ir.Resources{SHM: r.SHM}, nil)
	return vols, []corev1.VolumeMount{{Name: vols[0].Name, MountPath: "/dev/shm"}}
}

// storageServiceAccount is the service account KServe's storage
// initializer reads credentials from: it lists the credentials Secret,
// whose annotations (serving.kserve.io/s3-endpoint, …) say how to use it.
func storageServiceAccount(c *render.Context, e *entry) {
	c.Add(&corev1.ServiceAccount{
		TypeMeta:                     metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta:                   metav1.ObjectMeta{Name: e.serviceAccount()},
		Secrets:                      []corev1.ObjectReference{{Name: e.s.Credentials.Secret}},
		AutomountServiceAccountToken: new(false),
	}, e.origin(c))
}

func i32(v int) *int32 { n := int32(v); return &n }

// Kinds implements render.KindDeclarer: KServe's, Seldon's, Istio's and
// the Gateway API's kinds (Argo CD has health checks for them built in). Istio's security
// policy applies before services and routes, and routes after the
// services they name.
func (Renderer) Kinds() []render.Kind {
	return []render.Kind{
		{Group: "serving.kserve.io", Version: "v1beta1", Kind: "InferenceService", Plural: "inferenceservices", Order: render.OrderWorkload},
		// KServe's pod mutator refuses a model server pod whose storage
		// container does not exist yet, and the ReplicaSet controller
		// backs off for minutes between retries: the container is
		// configuration the pods need first, a wave before them.
		{Group: "serving.kserve.io", Version: "v1alpha1", Kind: "ClusterStorageContainer", Plural: "clusterstoragecontainers", ClusterScoped: true, Order: render.OrderConfig + 5, Wave: -1},
		{Group: "machinelearning.seldon.io", Version: "v1", Kind: "SeldonDeployment", Plural: "seldondeployments", Order: render.OrderWorkload},
		{Group: "security.istio.io", Version: "v1", Kind: "PeerAuthentication", Plural: "peerauthentications", Order: render.OrderNetworkPolicy},
		{Group: "security.istio.io", Version: "v1", Kind: "AuthorizationPolicy", Plural: "authorizationpolicies", Order: render.OrderNetworkPolicy + 1},
		{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule", Plural: "destinationrules", Order: render.OrderRouting + 1},
		{Group: "networking.istio.io", Version: "v1", Kind: "Gateway", Plural: "gateways", Order: render.OrderRouting + 2},
		{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService", Plural: "virtualservices", Order: render.OrderRouting + 3},
		// Argo CD (v3.5) has a health check for HTTPRoute built in (each
		// parent's Accepted and ResolvedRefs conditions); a ReferenceGrant
		// has no status and is healthy once applied. A grant goes before
		// the routes that need it, with the network policy.
		{Group: GatewayAPIGroup, Version: "v1beta1", Kind: "ReferenceGrant", Plural: "referencegrants", Order: render.OrderNetworkPolicy + 2},
		{Group: GatewayAPIGroup, Version: "v1", Kind: "HTTPRoute", Plural: "httproutes", Order: render.OrderRouting + 4},
	}
}
