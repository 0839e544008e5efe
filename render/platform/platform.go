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
	c.Add(Quota(sys, env), c.Origin(ir.Join(envPath, "gpu"), Component, sys.Name))
	c.Add(&corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Name: training.WorkloadServiceAccount(sys)},
		// Workload pods do not talk to the API server.
		AutomountServiceAccountToken: ptr(false),
	}, origin)

	rules := WorkflowRules(env)
	if rules == nil {
		return nil
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
	return nil
}

// WorkflowServiceAccount is the service account Argo workflow pods of the
// system run as.
func WorkflowServiceAccount(sys *ir.System) string { return sys.Name + "-workflow" }

// Namespace enforces the restricted Pod Security Standard, or baseline when
// an entry of the environment asks for it, and always warns and audits
// against restricted.
func Namespace(env *ir.Environment) *corev1.Namespace {
	level := "restricted"
	if usesBaseline(env.Spec) {
		level = "baseline"
	}
	ns := &corev1.Namespace{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: env.Namespace, Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": level,
			"pod-security.kubernetes.io/warn":    "restricted",
			"pod-security.kubernetes.io/audit":   "restricted",
		}},
	}
	for k, v := range sweepNamespaceLabels(env) {
		ns.Labels[k] = v
	}
	return ns
}

func usesBaseline(s *ir.Spec) bool {
	for _, t := range s.Training {
		if !t.Security.Restricted() {
			return true
		}
	}
	for _, p := range s.Pipelines {
		if !p.Security.Restricted() {
			return true
		}
	}
	for _, v := range s.Serving {
		if !v.Security.Restricted() {
			return true
		}
	}
	for _, n := range s.Notebooks {
		if !n.Security.Restricted() {
			return true
		}
	}
	return false
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
// sweeps create nothing themselves. nil when the environment runs no
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
			use(sw.Trial, "create", "get", "patch")
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
	return append(rules, SweepRules(env)...)
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
