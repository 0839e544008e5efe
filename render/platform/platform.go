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
	"github.com/kiln-ml/kiln/validate"
)

// Component is the app.kubernetes.io/component of platform objects.
const Component = "platform"

// Renderer renders the per-environment platform objects. It runs after
// the workload renderers and reads what they declared they need
// (render.Needs): it never reads their sections of the spec.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "platform" }

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	sys, env := c.System, c.Env
	envPath := ir.Path("environments", env.Name)
	origin := c.Origin(envPath, Component, sys.Name)

	needs := c.Needs()
	ns := Namespace(env, needs)
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
	for _, r := range needs.BaselineReasons() {
		if r.Controller {
			diags.Add(diag.Warnf(env.Sources.Pos(r.Path), r.Path, "namespace %s enforces Pod Security baseline, not restricted: %s", env.Namespace, r.Why))
		}
	}
	c.Add(Quota(sys, env, needs), c.Origin(ir.Join(envPath, "gpu"), Component, sys.Name))
	diags.Add(checkBudget(env, needs)...)
	if lr := LimitRange(sys, env); lr != nil {
		c.Add(lr, c.Origin(ir.Join(envPath, "quota"), Component, sys.Name))
	}
	c.Add(&corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Name: render.WorkloadServiceAccount(sys)},
		// Workload pods do not talk to the API server.
		AutomountServiceAccountToken: ptr(false),
	}, origin)

	rules := WorkflowRules(needs)
	if rules == nil {
		return diags
	}
	name := render.WorkflowServiceAccount(sys)
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

// PodSecurityVersion pins the Pod Security Standards the namespace labels
// refer to (the admission plugin takes "v1.<minor>" or "latest"): the
// Kubernetes minor kiln's API types come from. A cluster upgrade that
// tightens "latest" then does not start rejecting pods unannounced; a
// cluster older than the pin evaluates it as its own latest.
const PodSecurityVersion = "v1.37"

// Namespace enforces the restricted Pod Security Standard, or baseline when
// an entry of the environment asks for it or a controller it uses creates
// pods that cannot meet restricted (the renderers' NeedBaseline), and
// always warns and audits against restricted, so the gap stays visible.
// It carries the labels the renderers need (NeedNamespaceLabel).
func Namespace(env *ir.Environment, needs *render.Needs) *corev1.Namespace {
	level := "restricted"
	if len(needs.BaselineReasons()) > 0 {
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
	maps.Copy(ns.Labels, needs.NamespaceLabels())
	return ns
}

// Quota caps the namespace's GPU requests at the environment's budget
// (zero forbids GPUs), and CPU and memory when the spec sets them.
func Quota(sys *ir.System, env *ir.Environment, needs *render.Needs) *corev1.ResourceQuota {
	hard := corev1.ResourceList{
		corev1.ResourceName("requests." + pod.GPUResource): *resource.NewQuantity(int64(env.GPU.Quota), resource.DecimalSI),
	}
	// MIG slices are extended resources of their own; the quota caps
	// each profile the environment's pods request (NeedResource) at the
	// same budget, since kiln's checks count slices against gpu.quota.
	for _, r := range needs.Resources() {
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

// WorkflowRules are the least permissions Argo workflow pods of an
// environment need, from what its renderers declared: the executor
// reports step results through workflowtaskresults (create, patch); the
// kinds workflow steps create (NeedJobAccess: a training step applies its
// job, polls it by name and its exit handler deletes it; Argo's executor
// neither lists nor watches), one rule per group and set of verbs; the
// further rules they declared (NeedWorkflowRule: reading trial logs,
// starting runs of a pipeline); and the workflow's own finalizers when it
// creates objects (see below). nil when the environment runs no
// workflows.
func WorkflowRules(needs *render.Needs) []rbacv1.PolicyRule {
	if !needs.Workflows() {
		return nil
	}
	rules := []rbacv1.PolicyRule{{
		APIGroups: []string{"argoproj.io"},
		Resources: []string{"workflowtaskresults"},
		Verbs:     []string{"create", "patch"},
	}}
	jobs := needs.JobAccess()
	// One rule per group and set of verbs, kinds sorted.
	byGroup := map[string]map[string][]string{} // group → verbs → plurals
	for _, j := range jobs {
		if byGroup[j.Group] == nil {
			byGroup[j.Group] = map[string][]string{}
		}
		key := strings.Join(sortedVerbs(j.Verbs), ",")
		byGroup[j.Group][key] = append(byGroup[j.Group][key], j.Plural)
	}
	for _, g := range slices.Sorted(maps.Keys(byGroup)) {
		for _, key := range slices.Sorted(maps.Keys(byGroup[g])) {
			rules = append(rules, rbacv1.PolicyRule{
				APIGroups: []string{g},
				Resources: slices.Sorted(slices.Values(byGroup[g][key])),
				Verbs:     strings.Split(key, ","),
			})
		}
	}
	rules = append(rules, needs.WorkflowRules()...)
	// Every object a workflow creates (a training job, a child run) is
	// owned by the workflow through a controller reference, which sets
	// blockOwnerDeletion. Clusters with the
	// OwnerReferencesPermissionEnforcement admission plugin (OpenShift
	// has it on) then require the creator to be allowed to update the
	// owner's finalizers subresource.
	if len(rules) > 1 && (len(jobs) > 0 || slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
		return slices.Contains(r.Resources, "workflows") && slices.Contains(r.Verbs, "create")
	})) {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflows/finalizers"}, Verbs: []string{"update"}})
	}
	return rules
}

// sortedVerbs orders verbs as kubectl prints them: create, get, list,
// watch, then the rest alphabetically.
func sortedVerbs(vs []string) []string {
	order := []string{"create", "get", "list", "watch"}
	var out []string
	for _, v := range order {
		if slices.Contains(vs, v) {
			out = append(out, v)
		}
	}
	for _, v := range slices.Sorted(slices.Values(vs)) {
		if !slices.Contains(order, v) {
			out = append(out, v)
		}
	}
	return out
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
