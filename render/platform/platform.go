package platform

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
	"github.com/kiln-ml/kiln/render/training"
	"github.com/kiln-ml/kiln/validate"
)

// Component is the app.kubernetes.io/component of platform objects.
const Component = "platform"

// Renderer renders the per-environment platform objects.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "platform" }

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	sys, env := c.System, c.Env
	envPath := ir.Path("environments", env.Name)
	origin := c.Origin(envPath, Component, sys.Name)

	ns := Namespace(env)
	// Who owns the system and what it is for, where a cluster operator
	// looks first. Pruning the namespace deletes everything in it (a
	// renamed environment, a typo in its namespace), so Argo CD asks a
	// person to confirm it.
	ann := map[string]string{"argocd.argoproj.io/sync-options": "Prune=confirm"}
	if len(sys.Owners) > 0 {
		ann["kiln.dev/owners"] = strings.Join(sys.Owners, ",")
	}
	if sys.Description != "" {
		ann["kiln.dev/description"] = sys.Description
	}
	ns.Annotations = ann
	c.Add(ns, origin)
	var diags diag.List
	for _, r := range BaselineReasons(env) {
		if r.Controller {
			diags.Add(diag.Warnf(env.Sources.Pos(r.Path), r.Path, "namespace %s enforces Pod Security baseline, not restricted: %s", env.Namespace, r.Why))
		}
	}
	c.Add(Quota(sys, env), c.Origin(ir.Join(envPath, "gpu"), Component, sys.Name))
	if lr := LimitRange(sys, env); lr != nil {
		c.Add(lr, c.Origin(ir.Join(envPath, "quota"), Component, sys.Name))
	}
	c.Add(&corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Name: training.WorkloadServiceAccount(sys)},
		// Workload pods do not talk to the API server.
		AutomountServiceAccountToken: ptr(false),
	}, origin)

	rules := WorkflowRules(env)
	if rules == nil {
		return diags
	}
	name := WorkflowServiceAccount(sys)
	c.Add(&corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}, origin)
	c.Add(&rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      rules,
	}, origin)
	c.Add(&rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: env.Namespace}},
	}, origin)
	return diags
}

// WorkflowServiceAccount is the service account Argo workflow pods of the
// system run as.
func WorkflowServiceAccount(sys *ir.System) string { return sys.Name + "-workflow" }

// PodSecurityVersion pins the Pod Security Standards the namespace labels
// refer to (the admission plugin takes "v1.<minor>" or "latest"): the
// Kubernetes minor kiln's API types come from. A cluster upgrade that
// tightens "latest" then does not start rejecting pods unannounced; a
// cluster older than the pin evaluates it as its own latest.
const PodSecurityVersion = "v1.37"

// Namespace enforces the restricted Pod Security Standard, or baseline when
// an entry of the environment asks for it or a controller it uses creates
// pods that cannot meet restricted (BaselineReasons), and always warns and
// audits against restricted, so the gap stays visible.
func Namespace(env *ir.Environment) *corev1.Namespace {
	level := "restricted"
	if len(BaselineReasons(env)) > 0 {
		level = "baseline"
	}
	labels := map[string]string{}
	for mode, l := range map[string]string{"enforce": level, "warn": "restricted", "audit": "restricted"} {
		labels["pod-security.kubernetes.io/"+mode] = l
		labels["pod-security.kubernetes.io/"+mode+"-version"] = PodSecurityVersion
	}
	ns := &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: env.Namespace, Labels: labels},
	}
	for k, v := range sweepNamespaceLabels(env) {
		ns.Labels[k] = v
	}
	return ns
}

// Reason is why a namespace enforces baseline: the spec entry at Path.
type Reason struct {
	Path string
	Why  string
	// Controller says the entry itself asks for restricted: a controller
	// it uses creates pods that cannot meet it. (An entry that asks for
	// baseline needs no explanation.)
	Controller bool
}

// BaselineReasons lists the entries of env that need the namespace to
// enforce baseline, sorted by path. Besides entries that ask for it
// (security.profile: baseline), these are entries whose controllers add
// containers kiln cannot secure:
//
//   - Seldon Core v1 adds its executor (seldon-container-engine) with only
//     runAsUser and allowPrivilegeEscalation set, so capabilities are not
//     dropped, and a model initializer with no securityContext at all;
//     nothing in a SeldonDeployment configures either.
//   - Katib adds a metrics-collector sidecar to every trial, with no
//     securityContext unless katib-config sets injectSecurityContext, and
//     runs the suggestion service (and, with early stopping, its
//     early-stopping service, whose container has no configurable
//     securityContext at all) as a Deployment in this namespace. kiln
//     cannot see the cluster's katib-config, and a trial pod that
//     restricted rejects stalls the experiment, so a Katib sweep means
//     baseline unless the spec says katib-config secures Katib's
//     containers (katib.restricted) and the sweep does not stop early.
//   - The Kubeflow training operator (v1.8.1) adds an init-pytorch init
//     container, with no securityContext, to the Worker pods of a
//     PyTorchJob that has a Master replica (a non-elastic job with more
//     than one worker): it waits for the master's name to resolve. Only
//     the operator's own template configures it; elastic jobs, which have
//     no Master, and single-worker jobs, which have no Worker, get none.
//     A spec says the template secures it with trainingOperator.restricted.
func BaselineReasons(env *ir.Environment) []Reason {
	var out []Reason
	s := env.Spec
	opt := func(path string, sec ir.Security) {
		if !sec.Restricted() {
			out = append(out, Reason{Path: ir.Join(path, "security", "profile"), Why: path + " asks for it"})
		}
	}
	for name, t := range s.Training {
		path := ir.Path("training", name)
		opt(path, t.Security)
		if t.Framework == "pytorch" && t.Security.Restricted() && pytorchInitContainer(t) && (s.TrainingOperator == nil || !s.TrainingOperator.Restricted) {
			out = append(out, Reason{Path: ir.Join(path, "workers"), Controller: true,
				Why: "the training operator adds an init-pytorch init container without a securityContext to every Worker pod of a PyTorchJob with a Master, which restricted rejects and no PyTorchJob setting changes; set trainingOperator.restricted: true once the operator's --pytorch-init-container-template-file secures it"})
		}
	}
	for name, p := range s.Pipelines {
		opt(ir.Path("pipelines", name), p.Security)
	}
	for name, v := range s.Serving {
		path := ir.Path("serving", name)
		opt(path, v.Security)
		if v.Runtime == "seldon" && v.Security.Restricted() {
			out = append(out, Reason{Path: ir.Join(path, "runtime"), Controller: true,
				Why: "Seldon Core adds its executor without dropping capabilities and a model initializer without a securityContext, which restricted rejects and no SeldonDeployment setting changes"})
		}
	}
	for name, n := range s.Notebooks {
		opt(ir.Path("notebooks", name), n.Security)
	}
	for name, sw := range s.Sweeps {
		if sw.Backend != "katib" {
			continue
		}
		path := ir.Path("sweeps", name)
		switch {
		case sw.EarlyStopping != nil:
			out = append(out, Reason{Path: ir.Join(path, "earlyStopping"), Controller: true,
				Why: "Katib runs an early-stopping container in this namespace whose securityContext no setting controls"})
		case s.Katib == nil || !s.Katib.Restricted:
			out = append(out, Reason{Path: ir.Join(path, "backend"), Controller: true,
				Why: "Katib adds a metrics-collector sidecar to every trial pod with no securityContext unless katib-config sets injectSecurityContext: true, and runs its suggestion service here with the securityContext katib-config gives it (none by default); set katib.restricted: true once katib-config secures both"})
		}
	}
	slices.SortFunc(out, func(a, b Reason) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Quota caps the namespace's GPU requests at the environment's budget
// (zero forbids GPUs), and CPU and memory when the spec sets them.
func Quota(sys *ir.System, env *ir.Environment) *corev1.ResourceQuota {
	hard := corev1.ResourceList{
		corev1.ResourceName("requests." + pod.GPUResource): *resource.NewQuantity(int64(env.GPU.Quota), resource.DecimalSI),
	}
	// MIG slices are extended resources of their own; the quota caps
	// each profile the environment uses at the same budget, since kiln's
	// checks count slices against gpu.quota.
	for _, r := range migResources(env.Spec) {
		hard[corev1.ResourceName("requests."+r)] = *resource.NewQuantity(int64(env.GPU.Quota), resource.DecimalSI)
	}
	if q := env.Quota; q != nil {
		if q.CPU != "" {
			hard[corev1.ResourceRequestsCPU] = pod.Quantity(q.CPU)
		}
		if q.Memory != "" {
			hard[corev1.ResourceRequestsMemory] = pod.Quantity(q.Memory)
		}
	}
	return &corev1.ResourceQuota{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
		ObjectMeta: metav1.ObjectMeta{Name: sys.Name},
		Spec:       corev1.ResourceQuotaSpec{Hard: hard},
	}
}

// DefaultRequests are the CPU and memory the LimitRange gives a container
// that requests none: the executors, sidecars and initializers the
// controllers add.
func DefaultRequests() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("100m"),
		corev1.ResourceMemory: resource.MustParse("128Mi"),
	}
}

// LimitRange gives every container of the namespace a CPU and memory
// request when it has none, for the resources the environment's quota
// covers; nil when it covers neither. A quota on requests.cpu or
// requests.memory makes the API server reject any pod with a container
// that requests neither, and the controllers add such containers (Argo's
// executors before their podSpecPatch, Katib's metrics collector, Seldon's
// executor, KServe's storage initializer unless its ClusterStorageContainer
// sets resources). The LimitRanger admission plugin fills the request in
// before the quota is checked.
//
// Only defaultRequest is set: a default limit would also be given to
// kiln's containers, which request CPU but set no CPU limit (and a
// container requesting more than the default limit is invalid).
func LimitRange(sys *ir.System, env *ir.Environment) *corev1.LimitRange {
	q := env.Quota
	if q == nil || (q.CPU == "" && q.Memory == "") {
		return nil
	}
	req := corev1.ResourceList{}
	def := DefaultRequests()
	if q.CPU != "" {
		req[corev1.ResourceCPU] = def[corev1.ResourceCPU]
	}
	if q.Memory != "" {
		req[corev1.ResourceMemory] = def[corev1.ResourceMemory]
	}
	return &corev1.LimitRange{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "LimitRange"},
		ObjectMeta: metav1.ObjectMeta{Name: sys.Name},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			DefaultRequest: req,
		}}},
	}
}

// migResources lists the MIG resources the environment's entries request.
func migResources(s *ir.Spec) []string {
	set := map[string]bool{}
	add := func(r ir.Resources) {
		if r.MIG != "" && r.GPUs > 0 {
			set[r.GPUResource()] = true
		}
	}
	for _, t := range s.Training {
		add(t.Resources)
	}
	for _, v := range s.Serving {
		add(v.Resources)
	}
	for _, n := range s.Notebooks {
		add(n.Resources)
	}
	for _, p := range s.Pipelines {
		for _, st := range p.Steps {
			if st.Resources != nil {
				add(*st.Resources)
			}
		}
	}
	// A step that uses a component without setting resources runs with
	// the component's.
	for _, c := range s.Components {
		if c.Resources != nil {
			add(*c.Resources)
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// WorkflowRules are the least permissions Argo workflow pods of env need:
// the executor reports step results through workflowtaskresults (create,
// patch), and a pipeline step that runs a training job creates it through
// a resource template and polls it by name until it succeeds or fails
// (create, get: Argo's executor neither lists nor watches). An Argo
// sweep over a distributed job does the same for its trials and reads
// their logs (SweepRules); single-pod trials are plain steps and Katib
// sweeps create nothing themselves. A workflow that creates objects may
// also update its own finalizers (see below). nil when the environment runs no
// workflows.
func WorkflowRules(env *ir.Environment) []rbacv1.PolicyRule {
	s := env.Spec
	if len(s.Pipelines) == 0 && !argoSweeps(env) {
		return nil
	}
	rules := []rbacv1.PolicyRule{{
		APIGroups: []string{"argoproj.io"},
		Resources: []string{"workflowtaskresults"},
		Verbs:     []string{"create", "patch"},
	}}
	// verbs[group][plural] is the set of verbs on a kind.
	verbs := map[string]map[string]map[string]bool{}
	use := func(trainingName string, vs ...string) {
		t := s.Training[trainingName]
		if t == nil {
			return
		}
		k, ok := training.Kinds[t.Framework]
		if !ok {
			return
		}
		g := groupOf(k.APIVersion)
		if verbs[g] == nil {
			verbs[g] = map[string]map[string]bool{}
		}
		if verbs[g][k.Plural] == nil {
			verbs[g][k.Plural] = map[string]bool{}
		}
		for _, v := range vs {
			verbs[g][k.Plural][v] = true
		}
	}
	for _, p := range s.Pipelines {
		for _, st := range p.Steps {
			name := st.Training
			if st.Component != "" && name == "" {
				if c := s.Components[st.Component]; c != nil {
					name = c.Training
				}
			}
			if name != "" {
				// The step applies its job (get, then create or patch on
				// a retry) and the exit handler deletes it.
				use(name, "create", "get", "patch", "delete")
			}
		}
	}
	for _, sw := range s.Sweeps {
		// A sweep creates jobs only for distributed trials, through the
		// same resource template as a pipeline step.
		if createsJobs(env, sw) {
			// The exit handler of a run that did not succeed deletes
			// its trials' jobs by label (deletecollection).
			use(sw.Trial, "create", "get", "patch", "deletecollection")
		}
	}
	// One rule per group and set of verbs, kinds sorted.
	for _, g := range slices.Sorted(maps.Keys(verbs)) {
		byVerbs := map[string][]string{}
		for plural, vs := range verbs[g] {
			key := strings.Join(sortedVerbs(vs), ",")
			byVerbs[key] = append(byVerbs[key], plural)
		}
		for _, key := range slices.Sorted(maps.Keys(byVerbs)) {
			rules = append(rules, rbacv1.PolicyRule{
				APIGroups: []string{g},
				Resources: slices.Sorted(slices.Values(byVerbs[key])),
				Verbs:     strings.Split(key, ","),
			})
		}
	}
	rules = append(rules, SweepRules(env)...)
	// Every object a workflow creates (a training job, a child run) is
	// owned by the workflow through a controller reference, which sets
	// blockOwnerDeletion. Clusters with the
	// OwnerReferencesPermissionEnforcement admission plugin (OpenShift
	// has it on) then require the creator to be allowed to update the
	// owner's finalizers subresource.
	if len(rules) > 1 && (len(verbs) > 0 || slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
		return slices.Contains(r.Resources, "workflows") && slices.Contains(r.Verbs, "create")
	})) {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflows/finalizers"}, Verbs: []string{"update"}})
	}
	return rules
}

// sortedVerbs orders verbs as kubectl prints them: create, get, list,
// watch, then the rest alphabetically.
func sortedVerbs(vs map[string]bool) []string {
	order := []string{"create", "get", "list", "watch"}
	var out []string
	for _, v := range order {
		if vs[v] {
			out = append(out, v)
		}
	}
	for _, v := range slices.Sorted(maps.Keys(vs)) {
		if !slices.Contains(order, v) {
			out = append(out, v)
		}
	}
	return out
}

func groupOf(apiVersion string) string {
	for i := range apiVersion {
		if apiVersion[i] == '/' {
			return apiVersion[:i]
		}
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

// Transform implements render.Transformer: when the environment's quota
// covers CPU or memory, every container kiln writes must request them.
// The LimitRange would otherwise admit it with a token request, and the
// scheduler and the quota would count far less than it uses. Containers
// the controllers add are left to the LimitRange; Argo's executors, which
// kiln sizes, are held to the rule too.
func (Renderer) Transform(c *render.Context) diag.List {
	q := c.Env.Quota
	if q == nil {
		return nil
	}
	var covered []string
	if q.CPU != "" {
		covered = append(covered, "cpu")
	}
	if q.Memory != "" {
		covered = append(covered, "memory")
	}
	if len(covered) == 0 {
		return nil
	}
	quotaPath := ir.Path("environments", c.Env.Name, "quota")
	var diags diag.List
	items := c.Set.Items()
	docs := make([][]byte, len(items))
	for i, it := range items {
		docs[i], _ = render.Marshal(it.Object) // the writer reports errors
	}
	// The containers KServe adds come from the ClusterStorageContainers
	// the same set installs.
	cl := validate.Cluster{}.WithObjects(docs...)
	for i, it := range items {
		b := docs[i]
		if b == nil {
			continue
		}
		for _, v := range validate.MissingRequests(b, covered, cl) {
			if strings.Contains(v, ", added by ") && !strings.Contains(v, ", added by Argo") {
				continue
			}
			diags.Errorf(it.Origin.Pos, it.Origin.Path, "%s %s: %s, but %s covers %s: give the entry resources for it",
				it.GVK().Kind, it.Object.GetName(), v, quotaPath, strings.Join(covered, " and "))
		}
	}
	return diags
}

// pytorchInitContainer reports whether the training operator adds
// init-pytorch to a PyTorch entry's pods: when its job has both a Master
// and Workers.
func pytorchInitContainer(t *ir.Training) bool {
	var master, worker bool
	for _, r := range training.Topology(t) {
		master = master || r.Type == "Master"
		worker = worker || r.Type == "Worker"
	}
	return master && worker
}
