package platform_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/platform"
	"github.com/kiln-ml/kiln/render/sweep"
)

// The platform renderer derives the namespace, quota and RBAC from what
// the workload renderers declare they need; these tests run the built-in
// renderers on an environment and read what they declared.

// render runs the built-in renderers in order up to and including the
// platform renderer, and returns their diagnostics and needs.
func renderUpToPlatform(env *ir.Environment) (diag.List, *render.Needs) {
	c := &render.Context{System: &ir.System{Name: "fraud"}, Env: env, Set: render.NewSet()}
	var diags diag.List
	for _, r := range plugins.Builtins() {
		ds := r.Render(c)
		if _, ok := r.(platform.Renderer); ok {
			diags = append(diags, ds...)
			break
		}
	}
	return diags, c.Needs()
}

func needsOf(env *ir.Environment) *render.Needs { _, n := renderUpToPlatform(env); return n }

// renderAll returns the platform renderer's diagnostics.
func renderAll(env *ir.Environment) diag.List { d, _ := renderUpToPlatform(env); return d }

// A Katib sweep needs Katib's metrics collector injected into its trial
// pods, which Katib does only in namespaces that ask for it.
func TestKatibNamespaceLabel(t *testing.T) {
	env := &ir.Environment{Namespace: "derm-ml", Spec: &ir.Spec{
		Training: map[string]*ir.Training{"resnet": {Framework: "pytorch"}},
		Sweeps:   map[string]*ir.Sweep{"tune": {Trial: "resnet", Backend: "argo"}},
	}}
	ns := func() *corev1.Namespace { return platform.Namespace(env, needsOf(env)) }
	assert.NotContains(t, ns().Labels, sweep.KatibInjectionLabel)
	env.Spec.Sweeps["katib"] = &ir.Sweep{Trial: "resnet", Backend: "katib"}
	assert.Equal(t, "enabled", ns().Labels[sweep.KatibInjectionLabel])
	// Katib's sidecar and suggestion service are not kiln's to secure,
	// unless the spec says katib-config does.
	assert.Equal(t, "baseline", ns().Labels["pod-security.kubernetes.io/enforce"])
	env.Spec.Katib = &ir.Katib{Restricted: true}
	assert.Equal(t, "restricted", ns().Labels["pod-security.kubernetes.io/enforce"])
	assert.Equal(t, "enabled", ns().Labels[sweep.KatibInjectionLabel])
}

func TestWorkflowRules(t *testing.T) {
	env := &ir.Environment{Spec: &ir.Spec{
		Training: map[string]*ir.Training{
			"resnet":  {Framework: "pytorch"},
			"horovod": {Framework: "mpi"},
			"gbm":     {Framework: "xgboost"},
		},
		Components: map[string]*ir.Step{"fit": {Training: "gbm"}},
	}}
	assert.Nil(t, platform.WorkflowRules(needsOf(env)), "no workflows, no rules")

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
	}, platform.WorkflowRules(needsOf(env)))

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
	}, platform.WorkflowRules(needsOf(env)))
	tune.Metrics.Collector = "file"
	assert.Equal(t, []rbacv1.PolicyRule{taskResults}, platform.WorkflowRules(needsOf(env)))
	env.Spec.Sweeps = map[string]*ir.Sweep{"katib": {Trial: "horovod", Backend: "katib"}}
	assert.Nil(t, platform.WorkflowRules(needsOf(env)), "a Katib sweep is no workflow")

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
	}, platform.WorkflowRules(needsOf(env)))
}

// The quota caps every MIG profile the environment's pods request, also
// one a pipeline step gets from its component.
func TestQuotaMIGProfiles(t *testing.T) {
	env := &ir.Environment{Namespace: "ml", GPU: ir.GPUPolicy{Quota: 4}, Spec: &ir.Spec{
		Training:   map[string]*ir.Training{"small": {Resources: ir.Resources{GPUs: 1, MIG: "1g.10gb"}}},
		Components: map[string]*ir.Step{"eval": {Image: "tools:1", Resources: &ir.Resources{GPUs: 1, MIG: "3g.40gb"}}},
		Pipelines:  map[string]*ir.Pipeline{"p": {Steps: map[string]*ir.Step{"evaluate": {Component: "eval"}}}},
	}}
	q := platform.Quota(&ir.System{Name: "demo"}, env, needsOf(env))
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
	level := func() string {
		return platform.Namespace(env, needsOf(env)).Labels["pod-security.kubernetes.io/enforce"]
	}
	assert.Equal(t, "restricted", level())
	assert.Empty(t, needsOf(env).BaselineReasons())
	// The admission plugin accepts "latest" or v1.<minor>.
	version := regexp.MustCompile(`^(latest|v1\.(0|[1-9][0-9]*))$`)
	for _, mode := range []string{"enforce", "warn", "audit"} {
		assert.Regexp(t, version, platform.Namespace(env, needsOf(env)).Labels["pod-security.kubernetes.io/"+mode+"-version"], mode)
	}

	env.Spec.Serving["seldon"] = &ir.Serving{Runtime: "seldon"}
	assert.Equal(t, "baseline", level())
	assert.Equal(t, "restricted", platform.Namespace(env, needsOf(env)).Labels["pod-security.kubernetes.io/warn"], "the gap stays visible")
	r := needsOf(env).BaselineReasons()
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
	r = needsOf(env).BaselineReasons()
	require.Len(t, r, 1)
	assert.Equal(t, "sweeps.katib.earlyStopping", r[0].Path)
	assert.Contains(t, r[0].Why, "early-stopping")
	env.Spec.Katib = &ir.Katib{Restricted: true}
	assert.Equal(t, "baseline", level(), "nothing secures the early-stopping container")
	env.Spec.Sweeps["katib"].EarlyStopping = nil
	assert.Equal(t, "restricted", level())
	env.Spec.Katib = nil
	assert.Equal(t, "baseline", level())
	assert.Equal(t, "sweeps.katib.backend", needsOf(env).BaselineReasons()[0].Path)

	delete(env.Spec.Sweeps, "katib")
	// The training operator's init-pytorch, in Worker pods of a
	// PyTorchJob with a Master, cannot be restricted unless the spec says
	// the operator's template secures it.
	env.Spec.Training = map[string]*ir.Training{"resnet": {Framework: "pytorch", Image: "r:1", Workers: 1}}
	assert.Equal(t, "restricted", level(), "one worker: a Master only, no init container")
	env.Spec.Training["resnet"].Workers = 4
	assert.Equal(t, "baseline", level())
	r = needsOf(env).BaselineReasons()
	require.Len(t, r, 1)
	assert.Equal(t, "training.resnet.workers", r[0].Path)
	assert.True(t, r[0].Controller)
	assert.Contains(t, r[0].Why, "init-pytorch")
	env.Spec.TrainingOperator = &ir.TrainingOperator{Restricted: true}
	assert.Equal(t, "restricted", level(), "the operator's template secures init-pytorch")
	env.Spec.TrainingOperator = nil
	env.Spec.Training["resnet"].Elastic = &ir.Elastic{MinReplicas: 2, MaxReplicas: 4}
	assert.Equal(t, "restricted", level(), "elastic jobs have Workers only")
	env.Spec.Training["resnet"] = &ir.Training{Framework: "tensorflow", Image: "r:1", Workers: 4}
	assert.Equal(t, "restricted", level())
	env.Spec.Training = nil

	env.Spec.Serving["web"].Security.Profile = "baseline"
	assert.Equal(t, "baseline", level())
	r = needsOf(env).BaselineReasons()
	require.Len(t, r, 1)
	assert.False(t, r[0].Controller, "an entry's own choice needs no warning")
}

// A controller that forces baseline is reported at the entry's position.
func TestBaselineWarning(t *testing.T) {
	pos := diag.Pos{File: "spec/system.cue", Line: 40, Col: 3}
	env := &ir.Environment{Name: "prod", Namespace: "ml",
		Sources: ir.Sources{"serving.scorer.runtime": pos},
		Spec:    &ir.Spec{Serving: map[string]*ir.Serving{"scorer": {Runtime: "seldon"}}}}
	diags := renderAll(env)
	require.Len(t, diags, 1)
	assert.Equal(t, diag.Warning, diags[0].Severity)
	assert.Equal(t, pos, diags[0].Pos)
	assert.Equal(t, "serving.scorer.runtime", diags[0].Path)
	assert.Contains(t, diags[0].Msg, "baseline")
}
