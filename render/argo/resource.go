package argo

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/jsonmap"
)

// ParseCondition parses a resource condition the way Argo's executor
// does, so tests and checks can hold kiln's conditions to it.
func ParseCondition(cond string) (labels.Requirements, error) {
	sel, err := labels.Parse(cond)
	if err != nil {
		return nil, err
	}
	reqs, _ := sel.Requirements()
	return reqs, nil
}

// TrainingInput is a training job run as a pipeline step.
type TrainingInput struct {
	// Name of the template.
	Name string
	// Job is the rendered training job (training.Job); its name is
	// replaced by JobName, since every run creates its own job.
	Job render.Object
	// Kind describes the job's kind: the step waits for its Done or
	// Failed condition.
	Kind render.Kind
	// JobName is the name of the job in the cluster; a template of the
	// run's name (RunName) so that runs do not collide.
	JobName string
	// Labels are added to the job (kiln's recommended labels).
	Labels map[string]string
	// Parameters are the template's input parameters, in order; the
	// caller has put {{inputs.parameters.<name>}} into the job's args.
	Parameters []string
}

// RunName is the run's name as a job may carry it: Argo accepts any DNS
// subdomain as a workflow's name (a run submitted by hand may be named
// retrain.v2), but the training operator's webhook, Trainer and JobSet
// want a job's name to be a DNS-1035 label, which has no dots. Argo
// evaluates the expression when it substitutes the run's variables, and
// each dot becomes a dash; the names Argo generates (a CronWorkflow's
// runs, generateName) have none and are unchanged. It is expr-lang's
// builtin replace, not sprig's, which Argo 4 may no longer offer. The
// string literals are double-quoted: Argo substitutes in the manifest's
// text, where the YAML encoder single-quotes the whole scalar.
const RunName = `{{=replace(workflow.name, ".", "-")}}`

// LabelWorkflow is the label kiln puts on the objects a workflow run
// creates (training jobs, child workflows), valued with the run's name.
// It is kiln's own key: app.kubernetes.io/instance is the label Argo CD
// tracks its applications by, and a run's objects are not part of one.
const LabelWorkflow = "kiln.dev/workflow"

// WaiterRetries is how often a training step's waiter pod is started
// again after an error (its pod was evicted or deleted). Each attempt
// applies the same job, which exists by then, and waits for it again.
const WaiterRetries = 3

// TrainingTemplate returns a resource template that applies the job,
// owned by the workflow (deleting the run deletes the job), and waits for
// its kind's Done or Failed condition: the step fails when the job fails.
// A kind without them is an error: the step would wait forever.
//
// The action is apply, not create: Argo's executor runs kubectl with the
// action, and create fails with AlreadyExists when a waiter that was
// evicted is started again, failing the run while the job trains on.
// Apply of the unchanged manifest re-attaches to the job instead (its
// owner reference is the same run). retryStrategy OnError restarts the
// waiter on such errors only; a job that failed fails every attempt at
// once, so a failure is never retried as a new job (Argo's OnError does
// not retry a Failed node at all).
func TrainingTemplate(in TrainingInput) (wfv1.Template, error) {
	if in.Kind.Done == "" || in.Kind.Failed == "" {
		return wfv1.Template{}, fmt.Errorf("training job %s: kind %s says no condition a step can wait for", in.JobName, in.Kind.GroupKind())
	}
	in.Job.SetName(in.JobName)
	l := map[string]string{}
	for k, v := range in.Job.GetLabels() {
		l[k] = v
	}
	for k, v := range in.Labels {
		l[k] = v
	}
	l[LabelWorkflow] = "{{workflow.name}}"
	in.Job.SetLabels(l)
	var job any = in.Job
	if _, ok := job.(render.MapMarshaler); !ok {
		job = direct{in.Job}
	}
	manifest, err := render.Marshal(job)
	if err != nil {
		return wfv1.Template{}, fmt.Errorf("training job %s: %w", in.JobName, err)
	}
	t := wfv1.Template{
		Name: in.Name,
		Resource: &wfv1.ResourceTemplate{
			Action:            "apply",
			Manifest:          string(manifest),
			SetOwnerReference: true,
			SuccessCondition:  in.Kind.Done,
			FailureCondition:  in.Kind.Failed,
		},
		RetryStrategy: &wfv1.RetryStrategy{
			Limit:       new(intstr.FromInt32(WaiterRetries)),
			RetryPolicy: wfv1.RetryPolicyOnError,
		},
	}
	for _, p := range in.Parameters {
		t.Inputs.Parameters = append(t.Inputs.Parameters, wfv1.Parameter{Name: p})
	}
	return t, nil
}

// direct is a typed object whose map render.Marshal takes from jsonmap,
// without JSON text: a pipeline or sweep encodes a job manifest for every
// template that runs training, most of the time spent rendering them.
type direct struct{ render.Object }

// MarshalMap implements render.MapMarshaler.
func (d direct) MarshalMap() (map[string]any, error) { return jsonmap.Map(d.Object) }

// InputParameter is the template expression of an input parameter.
func InputParameter(name string) string { return "{{inputs.parameters." + name + "}}" }

// WithParameters returns a copy of t whose args named in names (new ones
// included) take the values of the template's input parameters of the
// same names: --<name>={{inputs.parameters.<name>}}. t is not changed.
func WithParameters(t *ir.Training, names []string) *ir.Training {
	c := *t
	c.Args = maps.Clone(t.Args)
	if c.Args == nil {
		c.Args = map[string]ir.Value{}
	}
	for _, n := range names {
		b, _ := json.Marshal(InputParameter(n))
		c.Args[n] = ir.Value{RawMessage: b}
	}
	return &c
}

// JobRef names a job a workflow run creates.
type JobRef struct {
	APIVersion, Kind, Namespace, Name string
}

// DeleteJobsTemplate returns a resource template that deletes the jobs a
// run created, whether or not they exist: Argo's executor runs
// kubectl delete --ignore-not-found on the manifest, one document per
// job. Run from the exit handler when the run did not succeed, it stops
// jobs that would otherwise train on after a failure, a timeout or
// argo stop, holding their GPUs until the run is garbage-collected.
func DeleteJobsTemplate(name string, jobs []JobRef) (wfv1.Template, error) {
	var docs []string
	for _, j := range jobs {
		b, err := render.Marshal(map[string]any{
			"apiVersion": j.APIVersion,
			"kind":       j.Kind,
			"metadata":   map[string]string{"name": j.Name, "namespace": j.Namespace},
		})
		if err != nil {
			return wfv1.Template{}, fmt.Errorf("job %s: %w", j.Name, err)
		}
		docs = append(docs, string(b))
	}
	return wfv1.Template{
		Name: name,
		Resource: &wfv1.ResourceTemplate{
			Action:   "delete",
			Manifest: strings.Join(docs, "---\n"),
			// The executor adds it too; stated so the intent is visible.
			Flags: []string{"--ignore-not-found"},
		},
	}, nil
}
