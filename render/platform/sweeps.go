package platform

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render/training"
)

// KatibInjectionLabel lets Katib inject its metrics collector into the
// trial pods of a namespace; without it Katib trials never report.
const KatibInjectionLabel = "katib.kubeflow.org/metrics-collector-injection"

// argoSweeps reports whether env runs a sweep as an Argo workflow.
func argoSweeps(env *ir.Environment) bool {
	for _, sw := range env.Spec.Sweeps {
		if sw.Backend != "katib" {
			return true
		}
	}
	return false
}

// createsJobs reports whether sw's workflow creates training jobs: an
// Argo sweep over a distributed job does; single-pod trials run as
// workflow steps, and Katib creates its own trials.
func createsJobs(env *ir.Environment, sw *ir.Sweep) bool {
	t := env.Spec.Training[sw.Trial]
	return sw.Backend != "katib" && t != nil && training.Replicas(training.Topology(t)) > 1
}

// readsLogs reports whether sw's workflow reads trial metrics from pod
// logs: an Argo sweep over a training job does (the chief's log of a
// distributed job, the step pod's log of a single-pod trial), unless a
// single-pod trial writes a metrics file; pipeline trials report through
// their run, and Katib collects metrics itself.
func readsLogs(env *ir.Environment, sw *ir.Sweep) bool {
	t := env.Spec.Training[sw.Trial]
	if sw.Backend == "katib" || t == nil {
		return false
	}
	return sw.Metrics.Collector != "file" || training.Replicas(training.Topology(t)) > 1
}

// SweepRules are the permissions the workflow pods of env's Argo sweeps
// need beyond WorkflowRules. A sweep over a training job reads the metrics
// from a trial pod's log (it lists the pods with a label selector, then
// reads one's log). A sweep over a pipeline creates a run of it per
// trial, waits for it (get) and reads its step outputs (get).
func SweepRules(env *ir.Environment) []rbacv1.PolicyRule {
	var logs, runs bool
	for _, sw := range env.Spec.Sweeps {
		if sw.Backend == "katib" {
			continue
		}
		logs = logs || readsLogs(env, sw)
		runs = runs || (sw.Pipeline != "" && env.Spec.Pipelines[sw.Pipeline] != nil)
	}
	var rules []rbacv1.PolicyRule
	if logs {
		rules = append(rules,
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		)
	}
	if runs {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflows"}, Verbs: []string{"create", "get"}})
	}
	return rules
}

// sweepNamespaceLabels are the labels env's sweeps need on the namespace.
func sweepNamespaceLabels(env *ir.Environment) map[string]string {
	for _, sw := range env.Spec.Sweeps {
		if sw.Backend == "katib" {
			return map[string]string{KatibInjectionLabel: "enabled"}
		}
	}
	return nil
}
