package platform

import (
	"testing"

	"github.com/stretchr/testify/assert"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kiln-ml/kiln/ir"
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
	taskResults := rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflowtaskresults"}, Verbs: []string{"create", "patch"}}
	// Resource templates apply the job (get, create, patch when a retried
	// waiter finds it) and poll it by name; the exit handler deletes it
	// by name: nothing more.
	assert.Equal(t, []rbacv1.PolicyRule{
		taskResults,
		{APIGroups: []string{"kubeflow.org"}, Resources: []string{"mpijobs", "pytorchjobs", "xgboostjobs"}, Verbs: []string{"create", "get", "delete", "patch"}},
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
		{APIGroups: []string{"kubeflow.org"}, Resources: []string{"pytorchjobs"}, Verbs: []string{"create", "get", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
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
