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
	// looks first.
	ann := map[string]string{}
	if len(sys.Owners) > 0 {
		ann["kiln.dev/owners"] = strings.Join(sys.Owners, ",")
	}
	if sys.Description != "" {
		ann["kiln.dev/description"] = sys.Description
	}
	if len(ann) > 0 {
		ns.Annotations = ann
	}
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
	return slices.Sorted(maps.Keys(set))
}

// WorkflowRules are the least permissions Argo workflow pods of env need:
// the executor reports step results through workflowtaskresults, and a
// step that runs a training job creates it and watches it until it ends.
// nil when the environment runs no workflows.
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
	created := map[string]training.Kind{}
	use := func(trainingName string) {
		if t := s.Training[trainingName]; t != nil {
			if k, ok := training.Kinds[t.Framework]; ok {
				created[k.Plural] = k
			}
		}
	}
	for _, p := range s.Pipelines {
		for _, st := range p.Steps {
			if st.Training != "" {
				use(st.Training)
			}
		}
	}
	for _, sw := range s.Sweeps {
		if createsJobs(env, sw) {
			use(sw.Trial)
		}
	}
	byGroup := map[string][]string{}
	for _, k := range created {
		g := groupOf(k.APIVersion)
		byGroup[g] = append(byGroup[g], k.Plural)
	}
	for _, g := range slices.Sorted(maps.Keys(byGroup)) {
		rules = append(rules, rbacv1.PolicyRule{
			APIGroups: []string{g},
			Resources: slices.Sorted(slices.Values(byGroup[g])),
			Verbs:     []string{"create", "get", "list", "watch"},
		})
	}
	return append(rules, SweepRules(env)...)
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
