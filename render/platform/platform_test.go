package platform

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

func TestWorkflowRules(t *testing.T) {
	env := &ir.Environment{Spec: &ir.Spec{
		Training: map[string]*ir.Training{
			"resnet":  {Framework: "pytorch"},
			"horovod": {Framework: "mpi"},
			"gbm":     {Framework: "xgboost"},
		},
		Components: map[string]*ir.Step{"fit": {Training: "gbm"}},
	}}
	assert.Nil(t, WorkflowRules(env), "no workflows, no rules")

	env.Spec.Pipelines = map[string]*ir.Pipeline{"p": {Steps: map[string]*ir.Step{
		"train":   {Training: "resnet"},
		"mpi":     {Training: "horovod"},
		"fit":     {Component: "fit"},
		"promote": {Promote: &ir.Promote{Serving: "web"}},
	}}}
	finalizers := rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflows/finalizers"}, Verbs: []string{"update"}}
	taskResults := rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflowtaskresults"}, Verbs: []string{"create", "patch"}}
	// Resource templates apply the job (get, create, patch when a retried
	// waiter finds it) and poll it by name; the exit handler deletes it
	// by name: nothing more.
	assert.Equal(t, []rbacv1.PolicyRule{
		taskResults,
		{APIGroups: []string{"kubeflow.org"}, Resources: []string{"mpijobs", "pytorchjobs", "xgboostjobs"}, Verbs: []string{"create", "get", "delete", "patch"}},
		finalizers,
	}, WorkflowRules(env))

	// A sweep of single-pod trials runs them as steps and reads the
	// metrics from their pods' logs; with a metrics file, nothing more. A
	// Katib sweep creates nothing itself.
	env.Spec.Training["resnet"].Workers = 1
	tune := &ir.Sweep{Trial: "resnet", Backend: "argo"}
	tune.Metrics.Collector = "stdout"
	env.Spec.Sweeps = map[string]*ir.Sweep{"tune": tune, "katib": {Trial: "horovod", Backend: "katib"}}
	env.Spec.Pipelines = nil
	assert.Equal(t, []rbacv1.PolicyRule{
		taskResults,
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
	}, WorkflowRules(env))
	tune.Metrics.Collector = "file"
	assert.Equal(t, []rbacv1.PolicyRule{taskResults}, WorkflowRules(env))
	env.Spec.Sweeps = map[string]*ir.Sweep{"katib": {Trial: "horovod", Backend: "katib"}}
	assert.Nil(t, WorkflowRules(env), "a Katib sweep is no workflow")

	// A sweep of distributed trials creates them as jobs, like a pipeline
	// step, and reads the chief's log.
	env.Spec.Pipelines = map[string]*ir.Pipeline{"p": {Steps: map[string]*ir.Step{"train": {Training: "gbm"}}}}
	env.Spec.Training["resnet"].Workers = 4
	env.Spec.Sweeps = map[string]*ir.Sweep{"tune": {Trial: "resnet", Backend: "argo"}}
	assert.Equal(t, []rbacv1.PolicyRule{
		taskResults,
		{APIGroups: []string{"kubeflow.org"}, Resources: []string{"xgboostjobs"}, Verbs: []string{"create", "get", "delete", "patch"}},
		{APIGroups: []string{"kubeflow.org"}, Resources: []string{"pytorchjobs"}, Verbs: []string{"create", "get", "deletecollection", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		finalizers,
	}, WorkflowRules(env))
}

// The quota caps every MIG profile the environment's pods request, also
// one a pipeline step gets from its component.
func TestQuotaMIGProfiles(t *testing.T) {
	env := &ir.Environment{Namespace: "ml", GPU: ir.GPUPolicy{Quota: 4}, Spec: &ir.Spec{
		Training:   map[string]*ir.Training{"small": {Resources: ir.Resources{GPUs: 1, MIG: "1g.10gb"}}},
		Components: map[string]*ir.Step{"eval": {Image: "tools:1", Resources: &ir.Resources{GPUs: 1, MIG: "3g.40gb"}}},
		Pipelines:  map[string]*ir.Pipeline{"p": {Steps: map[string]*ir.Step{"evaluate": {Component: "eval"}}}},
	}}
	q := Quota(&ir.System{Name: "demo"}, env)
	var got []string
	for name := range q.Spec.Hard {
		got = append(got, string(name))
	}
	assert.ElementsMatch(t, []string{"requests.nvidia.com/gpu", "requests.nvidia.com/mig-1g.10gb", "requests.nvidia.com/mig-3g.40gb"}, got)
}

// The namespace enforces baseline exactly when an entry asks for it or a
// controller an entry uses creates pods restricted rejects, and says
// which entry; every Pod Security label is pinned to a version.
func TestNamespaceLevel(t *testing.T) {
	env := &ir.Environment{Namespace: "ml", Spec: &ir.Spec{
		Serving: map[string]*ir.Serving{"web": {Runtime: "kserve"}},
		Sweeps:  map[string]*ir.Sweep{"tune": {Backend: "argo"}},
	}}
	level := func() string { return Namespace(env).Labels["pod-security.kubernetes.io/enforce"] }
	assert.Equal(t, "restricted", level())
	assert.Empty(t, BaselineReasons(env))
	// The admission plugin accepts "latest" or v1.<minor>.
	version := regexp.MustCompile(`^(latest|v1\.(0|[1-9][0-9]*))$`)
	for _, mode := range []string{"enforce", "warn", "audit"} {
		assert.Regexp(t, version, Namespace(env).Labels["pod-security.kubernetes.io/"+mode+"-version"], mode)
	}

	env.Spec.Serving["seldon"] = &ir.Serving{Runtime: "seldon"}
	assert.Equal(t, "baseline", level())
	assert.Equal(t, "restricted", Namespace(env).Labels["pod-security.kubernetes.io/warn"], "the gap stays visible")
	r := BaselineReasons(env)
	require.Len(t, r, 1)
	assert.Equal(t, "serving.seldon.runtime", r[0].Path)
	assert.True(t, r[0].Controller)

	delete(env.Spec.Serving, "seldon")
	env.Spec.Sweeps["katib"] = &ir.Sweep{Backend: "katib", EarlyStopping: &struct {
		Median struct {
			MinTrials int  `json:"minTrials"`
			StartStep *int `json:"startStep,omitempty"`
		} `json:"median"`
	}{}}
	assert.Equal(t, "baseline", level())
	r = BaselineReasons(env)
	require.Len(t, r, 1)
	assert.Equal(t, "sweeps.katib.earlyStopping", r[0].Path)
	assert.Contains(t, r[0].Why, "early-stopping")
	env.Spec.Katib = &ir.Katib{Restricted: true}
	assert.Equal(t, "baseline", level(), "nothing secures the early-stopping container")
	env.Spec.Sweeps["katib"].EarlyStopping = nil
	assert.Equal(t, "restricted", level())
	env.Spec.Katib = nil
	assert.Equal(t, "baseline", level())
	assert.Equal(t, "sweeps.katib.backend", BaselineReasons(env)[0].Path)

	delete(env.Spec.Sweeps, "katib")
	// The training operator's init-pytorch, in Worker pods of a
	// PyTorchJob with a Master, cannot be restricted.
	env.Spec.Training = map[string]*ir.Training{"resnet": {Framework: "pytorch", Workers: 1}}
	assert.Equal(t, "restricted", level(), "one worker: a Master only, no init container")
	env.Spec.Training["resnet"].Workers = 4
	assert.Equal(t, "baseline", level())
	r = BaselineReasons(env)
	require.Len(t, r, 1)
	assert.Equal(t, "training.resnet.workers", r[0].Path)
	assert.True(t, r[0].Controller)
	assert.Contains(t, r[0].Why, "init-pytorch")
	env.Spec.TrainingOperator = &ir.TrainingOperator{Restricted: true}
	assert.Equal(t, "restricted", level(), "the operator's template secures init-pytorch")
	env.Spec.TrainingOperator = nil
	env.Spec.Training["resnet"].Elastic = &ir.Elastic{MinReplicas: 2, MaxReplicas: 4}
	assert.Equal(t, "restricted", level(), "elastic jobs have Workers only")
	env.Spec.Training["resnet"] = &ir.Training{Framework: "tensorflow", Workers: 4}
	assert.Equal(t, "restricted", level())
	delete(env.Spec.Training, "resnet")

	env.Spec.Serving["web"].Security.Profile = "baseline"
	assert.Equal(t, "baseline", level())
	r = BaselineReasons(env)
	require.Len(t, r, 1)
	assert.False(t, r[0].Controller, "an entry's own choice needs no warning")
}

// A quota on CPU or memory comes with a LimitRange that gives a request
// for exactly those resources to containers that have none, and no
// default limit, which would undercut containers requesting more.
func TestLimitRange(t *testing.T) {
	sys := &ir.System{Name: "fraud"}
	env := &ir.Environment{Namespace: "risk", Spec: &ir.Spec{}}
	assert.Nil(t, LimitRange(sys, env))
	env.Quota = &ir.Quota{Memory: "800Gi"}
	lr := LimitRange(sys, env)
	require.NotNil(t, lr)
	require.Len(t, lr.Spec.Limits, 1)
	item := lr.Spec.Limits[0]
	assert.Equal(t, corev1.LimitTypeContainer, item.Type)
	assert.Empty(t, item.Default)
	assert.Equal(t, []corev1.ResourceName{corev1.ResourceMemory}, keys(item.DefaultRequest))
	env.Quota.CPU = "200"
	assert.ElementsMatch(t, []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}, keys(LimitRange(sys, env).Spec.Limits[0].DefaultRequest))
}

func keys(l corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for k := range l {
		out = append(out, k)
	}
	return out
}

// A controller that forces baseline is reported at the entry's position.
func TestBaselineWarning(t *testing.T) {
	pos := diag.Pos{File: "spec/system.cue", Line: 40, Col: 3}
	env := &ir.Environment{Name: "prod", Namespace: "ml",
		Sources: ir.Sources{"serving.scorer.runtime": pos},
		Spec:    &ir.Spec{Serving: map[string]*ir.Serving{"scorer": {Runtime: "seldon"}}}}
	c := &render.Context{System: &ir.System{Name: "fraud"}, Env: env, Set: render.NewSet()}
	diags := Renderer{}.Render(c)
	require.Len(t, diags, 1)
	assert.Equal(t, diag.Warning, diags[0].Severity)
	assert.Equal(t, pos, diags[0].Pos)
	assert.Equal(t, "serving.scorer.runtime", diags[0].Path)
	assert.Contains(t, diags[0].Msg, "baseline")
}

// Under a CPU/memory quota every container kiln writes requests what the
// quota covers; the diagnostic points at the entry that wrote it.
func TestQuotaRequestsCheck(t *testing.T) {
	pos := diag.Pos{File: "spec/system.cue", Line: 12, Col: 3}
	env := &ir.Environment{Name: "prod", Namespace: "ml", Spec: &ir.Spec{}, Sources: ir.Sources{"training.fit": pos}}
	c := &render.Context{System: &ir.System{Name: "fraud"}, Env: env, Set: render.NewSet()}
	pod := func(name string, req corev1.ResourceList) *corev1.Pod {
		return &corev1.Pod{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "x", Resources: corev1.ResourceRequirements{Requests: req}}}},
		}
	}
	c.Add(pod("sized", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}), c.Origin("training.ok", Component, "fraud"))
	c.Add(pod("cpu-only", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}), c.Origin("training.fit", Component, "fraud"))
	assert.Empty(t, Renderer{}.Transform(c), "no quota, no rule")

	env.Quota = &ir.Quota{CPU: "10"}
	assert.Empty(t, Renderer{}.Transform(c), "the quota covers only CPU")

	env.Quota.Memory = "100Gi"
	diags := Renderer{}.Transform(c)
	require.Len(t, diags, 1)
	assert.Equal(t, diag.Error, diags[0].Severity)
	assert.Equal(t, pos, diags[0].Pos)
	assert.Equal(t, "training.fit", diags[0].Path)
	assert.Contains(t, diags[0].Msg, "no memory request")
}
