package sweep

import (
	_ "embed"
	"maps"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/training"
)

// Component is the app.kubernetes.io/component of sweep objects.
const Component = "sweep"

// Renderer renders sweeps.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "sweeps" }

// KatibInjectionLabel lets Katib inject its metrics collector into the
// trial pods of a namespace; without it Katib trials never report.
const KatibInjectionLabel = "katib.kubeflow.org/metrics-collector-injection"

// experimentHealth is Argo CD's health check for a Katib Experiment,
// which it has none for built in.
//
//go:embed health.lua
var experimentHealth string

// Kinds implements render.KindDeclarer.
func (Renderer) Kinds() []render.Kind {
	return append(argo.Kinds(), render.Kind{
		Group: "kubeflow.org", Version: "v1beta1", Kind: "Experiment", Plural: "experiments",
		Order: render.OrderWorkload, Health: experimentHealth,
	})
}

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	for _, name := range slices.Sorted(maps.Keys(c.Env.Spec.Sweeps)) {
		sw := c.Env.Spec.Sweeps[name]
		path := ir.Path("sweeps", name)
		needs(c, path, sw)
		if c.Env.Spec.Training[sw.Trial] == nil && c.Env.Spec.Pipelines[sw.Pipeline] == nil {
			// The compiler reports the dangling reference.
			continue
		}
		if !Check(c, name, sw) {
			continue
		}
		origin := c.Origin(path, Component, render.ObjectName(name))
		// Trials run the trial entry's pods, as it built them.
		if t := c.Env.Spec.Training[sw.Trial]; t != nil {
			origin.PodSecurity = render.PodSecurityOf(t.Security)
		}
		switch sw.Backend {
		case "katib":
			exp, err := Katib(c.System, c.Env, name, sw)
			if err != nil {
				c.Errorf(path, "%v", err)
				continue
			}
			c.Add(exp, origin)
		default:
			objs, err := Argo(c.System, c.Env, name, sw)
			if err != nil {
				c.Errorf(path, "%v", err)
				continue
			}
			for _, o := range objs {
				c.Add(o, origin)
			}
		}
	}
	return nil
}

// needs declares what a sweep needs of the environment.
//
// A Katib sweep needs Katib's metrics collector injected into its trial
// pods, which Katib does only in namespaces labelled for it. Katib adds
// that sidecar to every trial with no securityContext unless katib-config
// sets injectSecurityContext, and runs the suggestion service (and, with
// early stopping, its early-stopping service, whose container has no
// configurable securityContext at all) as a Deployment in this namespace.
// kiln cannot see the cluster's katib-config, and a trial pod that
// restricted rejects stalls the experiment, so a Katib sweep means
// baseline unless the spec says katib-config secures Katib's containers
// (katib.restricted) and the sweep does not stop early.
//
// An Argo sweep runs as a workflow. Over a distributed training job it
// creates the trials' jobs through the same resource template as a
// pipeline step (and its exit handler deletes a failed run's jobs by
// label: deletecollection); single-pod trials are plain steps. Over a
// training job it reads the metrics from a trial pod's log (it lists the
// pods with a label selector, then reads one's log), unless a single-pod
// trial writes a metrics file. Over a pipeline it creates a run of it per
// trial, waits for it (get) and reads its step outputs (get).
func needs(c *render.Context, path string, sw *ir.Sweep) {
	s := c.Env.Spec
	if sw.Backend == "katib" {
		c.NeedNamespaceLabel(KatibInjectionLabel, "enabled")
		switch {
		case sw.EarlyStopping != nil:
			c.NeedBaseline(render.BaselineReason{Path: ir.Join(path, "earlyStopping"), Controller: true,
				Why: "Katib runs an early-stopping container in this namespace whose securityContext no setting controls"})
		case s.Katib == nil || !s.Katib.Restricted:
			c.NeedBaseline(render.BaselineReason{Path: ir.Join(path, "backend"), Controller: true,
				Why: "Katib adds a metrics-collector sidecar to every trial pod with no securityContext unless katib-config sets injectSecurityContext: true, and runs its suggestion service here with the securityContext katib-config gives it (none by default); set katib.restricted: true once katib-config secures both"})
		}
		return
	}
	c.NeedWorkflows()
	if t := s.Training[sw.Trial]; t != nil {
		if distributed(t) {
			if k, ok := training.KindFor(s, t); ok {
				c.NeedJobAccess(k, "create", "get", "patch", "deletecollection")
			}
		}
		if sw.Metrics.Collector != "file" || distributed(t) {
			c.NeedWorkflowRule(rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}})
			c.NeedWorkflowRule(rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}})
		}
	}
	if sw.Pipeline != "" && s.Pipelines[sw.Pipeline] != nil {
		c.NeedWorkflowRule(rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflows"}, Verbs: []string{"create", "get"}})
	}
}
