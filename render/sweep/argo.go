package sweep

import (
	_ "embed"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	inclusterselector "github.com/kiln-ml/kiln/incluster/selector"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/lineagestep"
	"github.com/kiln-ml/kiln/render/pod"
	"github.com/kiln-ml/kiln/render/training"
)

// Selector is the bookkeeping program of a sweep workflow (plan, adopt,
// collect, record, summary), kept in incluster/selector because it runs
// in the cluster. It ships in the sweep's ConfigMap beside the plan;
// TestSelector runs it on recorded metrics.
var Selector = inclusterselector.Script

// Paths inside the workflow's step pods.
const (
	scriptDir  = "/kiln"
	inDir      = "/tmp/kiln/in"
	outDir     = "/tmp/kiln/out"
	planKey    = "plan.json"
	scriptKey  = "selector.py"
	scriptsVol = "kiln-sweep"
	// Suggestion contract: the request (history) file the suggestion
	// reads and the file it writes the next trials to; their paths are
	// in its environment as KILN_SWEEP_REQUEST and KILN_SWEEP_NEXT.
	SuggestionRequest = "/tmp/kiln/in/request"
	SuggestionNext    = "/tmp/kiln/out/next"
	// metricsKey is the file (and output parameter) the metrics readers
	// write: only the name=value lines of the sweep's metrics, the last
	// value of each, so what a trial hands on through Argo parameters is
	// bounded by the number of metrics, not by the length of its log.
	metricsKey = "metrics"
)

// TrialLabel marks the pod of a single-pod trial with the trial's name,
// so the logs step can find it (Argo adds the workflow's name as
// workflows.argoproj.io/workflow). Pods with this label are kept until
// the run is deleted (ttl): their logs are where the metrics are.
const TrialLabel = "kiln.dev/trial"

// argoWorkflowLabel is the label Argo puts on every pod of a workflow.
const argoWorkflowLabel = "workflows.argoproj.io/workflow"

// SuggestCommand is what the suggest step runs in the kiln image when
// the sweep names no suggestion image of its own.
var SuggestCommand = []string{"kiln", "suggest"}

// RoundSlack is what each wave of trials adds to trialTimeout in the
// derived deadline of a sweep run: the bookkeeping steps, pulling
// images and waiting for a node.
const RoundSlack = 10 * time.Minute

// emptyHistory starts the first round.
const emptyHistory = `{"trials":[]}`

// Resources of the selector's steps: small Python programs.
var selectorResources = ir.Resources{CPU: "100m", Memory: "128Mi"}

// ConfigMapName is the name of a sweep's ConfigMap.
func ConfigMapName(name string) string { return render.ObjectName(name) + "-sweep" }

// Argo renders a sweep as a ConfigMap (the plan and the selector), a
// WorkflowTemplate that runs it, and a CronWorkflow when scheduled.
func Argo(sys *ir.System, env *ir.Environment, name string, sw *ir.Sweep) ([]render.Object, error) {
	plan, err := NewPlan(name, sw)
	if err != nil {
		return nil, err
	}
	planJSON, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName(name)},
		Data:       map[string]string{planKey: string(planJSON) + "\n", scriptKey: Selector},
	}
	b := &builder{sys: sys, env: env, name: name, sw: sw, t: env.Spec.Training[sw.Trial], p: env.Spec.Pipelines[sw.Pipeline]}
	b.lineage, _ = RecordsLineage(env, sw)
	b.plan = planJSON
	wt, err := b.workflowTemplate()
	if err != nil {
		return nil, err
	}
	objs := []render.Object{cm, argo.Wrap(wt)}
	if sw.Schedule != nil {
		objs = append(objs, argo.Wrap(argo.CronWorkflow(render.ObjectName(name), wt.Name, sw.Schedule)))
	}
	return objs, nil
}

type builder struct {
	sys  *ir.System
	env  *ir.Environment
	name string
	sw   *ir.Sweep
	// t is the training job of the trials, or p their pipeline.
	t *ir.Training
	p *ir.Pipeline
	// lineage: the run's exit handler writes its lineage record.
	lineage bool
	// plan is the plan as the ConfigMap holds it.
	plan []byte
}

// params are the names of the trial's parameters: the sweep's, and the
// Hyperband resource.
func (b *builder) params() []string {
	ps := paramNames(b.sw)
	if hb := b.sw.Hyperband; hb != nil && b.sw.Algorithm == "hyperband" {
		ps = append(ps, hb.Resource)
	}
	return ps
}

// artifacts reports whether the summary is also saved as artifacts: when
// the spec configures an artifact repository (whose ConfigMap the
// pipeline renderer emits). Without one the summary is an output
// parameter only, so the workflow does not fail for want of a bucket.
func (b *builder) artifacts() bool { return b.env.Spec.Artifacts != nil }

func (b *builder) adaptive() bool { return b.sw.Algorithm == "bayesian" || b.sw.Algorithm == "tpe" }

func (b *builder) workflowTemplate() (*wfv1.WorkflowTemplate, error) {
	wt := argo.WorkflowTemplate(render.ObjectName(b.name))
	run, err := b.runTemplates()
	if err != nil {
		return nil, err
	}
	templates := []wfv1.Template{b.entry(), b.round(), b.trial()}
	templates = append(templates, run...)
	record := b.selector("record", []string{"history", "state", "results"}, nil, []string{"history", "done"})
	summary := b.selector("summary", []string{"history"}, nil, []string{"best-trial", "best-value", "best-parameters", "summary.md"})
	if b.lineage {
		// For the lineage record, which the exit handler writes: each
		// round's history replaces the last one's.
		record.Outputs.Parameters[0].GlobalName = HistoryOutput
		summary.Outputs.Parameters[0].GlobalName = BestTrialOutput
	}
	templates = append(templates,
		b.selector("plan", []string{"history"}, nil, []string{"next", "state", "request"}),
		record,
		summary,
		b.collect(),
	)
	if b.adaptive() {
		templates = append(templates, b.suggest(), b.selector("adopt", []string{"history", "suggested"}, nil, []string{"next"}))
	}
	var onExit string
	cleanup := b.p == nil && distributed(b.t)
	if cleanup || b.lineage {
		onExit = ExitHandler
		templates = append(templates, b.exitHandler(cleanup))
	}
	if cleanup {
		templates = append(templates, b.cleanup())
	}
	ttl := int32(b.sw.TTL)
	spec := wfv1.WorkflowSpec{
		Entrypoint:         "sweep",
		OnExit:             onExit,
		ServiceAccountName: render.WorkflowServiceAccount(b.sys),
		Templates:          templates,
		// kiln's own step pods go once they succeeded; a trial's pod
		// stays (until the run is deleted) so its log can be read.
		PodGC: &wfv1.PodGC{Strategy: wfv1.PodGCOnPodSuccess, LabelSelector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: TrialLabel, Operator: metav1.LabelSelectorOpDoesNotExist}},
		}},
		TTLStrategy:           &wfv1.TTLStrategy{SecondsAfterCompletion: &ttl},
		ActiveDeadlineSeconds: b.deadline(),
		// One run of a sweep at a time: a second (a manual run beside
		// the scheduled one) would double the GPUs it holds.
		Synchronization: argo.Limit(RunMutexName(b.name), 1),
		Volumes: []corev1.Volume{{Name: scriptsVol, VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(b.name)}},
		}}},
	}
	if b.artifacts() {
		spec.ArtifactRepositoryRef = argo.ArtifactRepositoryRef(b.sys)
	}
	if b.lineage {
		// The digest of everything but the step that records it, and of
		// the plan (the trials of a compile-time search are in the plan,
		// not in the workflow).
		spec.Templates = append(spec.Templates, b.lineageTemplate(lineagestep.Digest(&spec, b.plan)))
	}
	wt.Spec = spec
	return wt, nil
}

// ExitHandler is the template a sweep over distributed trials, or one
// that records lineage, runs when its run ends.
const ExitHandler = "exit-handler"

// exitHandler writes the run's lineage record, whatever the outcome, and
// (cleanup) deletes the run's trial jobs unless the run succeeded: a
// job's deadline (trialTimeout, or the sweep's timeout) is optional, and
// Argo's stop, timeout or failure ends only the steps that wait for jobs,
// so without it a failed run's jobs would train on, holding their GPUs,
// until the run is deleted (its ttl). A run that succeeded has waited for
// every trial; its jobs keep their pods' logs until then.
func (b *builder) exitHandler(cleanup bool) wfv1.Template {
	var tasks []wfv1.DAGTask
	if cleanup {
		tasks = append(tasks, wfv1.DAGTask{
			Name: "delete-trial-jobs", Template: "delete-trial-jobs",
			When: "'{{workflow.status}}' != 'Succeeded'",
		})
	}
	if b.lineage {
		tasks = append(tasks, wfv1.DAGTask{Name: "lineage", Template: "lineage"})
	}
	return wfv1.Template{Name: ExitHandler, DAG: &wfv1.DAGTemplate{Tasks: tasks}}
}

// cleanup deletes the jobs the run's trials created (selector.py
// cleanup): one DELETE of the collection of the trial's kind, selected by
// the run's label (the workflow Role may deletecollection that kind).
func (b *builder) cleanup() wfv1.Template {
	k, _ := training.KindFor(b.env.Spec, b.t)
	t := argo.ContainerTemplate(b.env, "delete-trial-jobs", pod.Input{
		Image:   b.sw.Tools.Python,
		Command: []string{"python3", scriptDir + "/" + scriptKey, "cleanup"},
		Env: map[string]ir.EnvVar{
			"KILN_JOBS":         {Value: "apis/" + k.APIVersion() + "/" + k.Plural},
			"KILN_JOB_SELECTOR": {Value: argo.LabelWorkflow + "={{workflow.name}}"},
		},
		Resources: selectorResources, Security: restricted,
		ServiceAccount: render.WorkflowServiceAccount(b.sys), AutomountToken: true,
	}, "")
	t.Container.VolumeMounts = append(t.Container.VolumeMounts, corev1.VolumeMount{Name: scriptsVol, MountPath: scriptDir, ReadOnly: true})
	t.RetryStrategy = &wfv1.RetryStrategy{Limit: ptrIntStr(3)}
	return t
}

// RunMutexName is the mutex that lets one run of a sweep run at a time.
func RunMutexName(name string) string { return render.ObjectName(name) + "-sweep-runs" }

// deadline is the run's activeDeadlineSeconds: the sweep's timeout, or
// derived from trialTimeout (see Waves); nil when neither is set.
func (b *builder) deadline() *int64 {
	var d time.Duration
	switch {
	case b.sw.Timeout != "":
		d, _ = time.ParseDuration(b.sw.Timeout)
	case b.sw.TrialTimeout != "":
		per, _ := time.ParseDuration(b.sw.TrialTimeout)
		plan, err := NewPlan(b.name, b.sw)
		if err != nil {
			return nil
		}
		d = time.Duration(Waves(plan)) * (per + RoundSlack)
	}
	if d <= 0 {
		return nil
	}
	s := int64(math.Ceil(d.Seconds()))
	return &s
}

// Waves is how many times, at most, a sweep run waits for a trial in
// turn: rounds of parallel trials, or for Hyperband each rung's trials,
// parallel at a time. (Adaptive sweeps run rounds of parallel trials up
// to maxTrials, like a compile-time plan.)
func Waves(p *Plan) int {
	ceil := func(n int) int { return (n + p.Parallel - 1) / p.Parallel }
	if p.Algorithm == "hyperband" {
		n := 0
		for _, br := range p.Brackets {
			for _, r := range br.Rungs {
				n += ceil(r.Trials)
			}
		}
		return n
	}
	n := p.MaxTrials
	if len(p.Trials) > 0 {
		n = min(n, len(p.Trials))
	}
	return ceil(n)
}

// entry runs the rounds from an empty history, then the summary, whose
// best trial becomes the workflow's outputs.
func (b *builder) entry() wfv1.Template {
	t := wfv1.Template{Name: "sweep", Steps: []wfv1.ParallelSteps{
		{Steps: []wfv1.WorkflowStep{{Name: "search", Template: "round", Arguments: args("history", emptyHistory)}}},
		{Steps: []wfv1.WorkflowStep{{Name: "summary", Template: "summary", Arguments: args("history", "{{steps.search.outputs.parameters.history}}")}}},
	}}
	for _, p := range []string{"best-trial", "best-value", "best-parameters", "summary"} {
		t.Outputs.Parameters = append(t.Outputs.Parameters, wfv1.Parameter{Name: p, ValueFrom: &wfv1.ValueFrom{Parameter: "{{steps.summary.outputs.parameters." + p + "}}"}})
	}
	if b.artifacts() {
		t.Outputs.Artifacts = []wfv1.Artifact{{Name: "summary", From: "{{steps.summary.outputs.artifacts.summary}}"}, {Name: "history", From: "{{steps.summary.outputs.artifacts.history}}"}}
	}
	return t
}

// round plans the next trials, runs them (at most parallel at once),
// records their results and, unless the sweep is done, recurses. Its
// output is the history of this round and every later one.
func (b *builder) round() wfv1.Template {
	source := "{{steps.plan.outputs.parameters.next}}"
	steps := []wfv1.ParallelSteps{
		{Steps: []wfv1.WorkflowStep{{Name: "plan", Template: "plan", Arguments: args("history", "{{inputs.parameters.history}}")}}},
	}
	if b.adaptive() {
		source = "{{steps.adopt.outputs.parameters.next}}"
		steps = append(steps,
			wfv1.ParallelSteps{Steps: []wfv1.WorkflowStep{{Name: "suggest", Template: "suggest", Arguments: args("request", "{{steps.plan.outputs.parameters.request}}")}}},
			wfv1.ParallelSteps{Steps: []wfv1.WorkflowStep{{Name: "adopt", Template: "adopt", Arguments: args("history", "{{inputs.parameters.history}}", "suggested", "{{steps.suggest.outputs.parameters.next}}")}}},
		)
	}
	trialArgs := []string{"item", "{{item}}", "trial", "{{item.trial}}"}
	for _, p := range b.params() {
		trialArgs = append(trialArgs, p, "{{item."+p+"}}")
	}
	steps = append(steps,
		wfv1.ParallelSteps{Steps: []wfv1.WorkflowStep{{Name: "trials", Template: "trial", Arguments: args(trialArgs...), WithParam: source}}},
		wfv1.ParallelSteps{Steps: []wfv1.WorkflowStep{{Name: "record", Template: "record", Arguments: args(
			"history", "{{inputs.parameters.history}}",
			"state", "{{steps.plan.outputs.parameters.state}}",
			"results", "{{steps.trials.outputs.parameters}}",
		)}}},
		wfv1.ParallelSteps{Steps: []wfv1.WorkflowStep{{Name: "next", Template: "round",
			Arguments: args("history", "{{steps.record.outputs.parameters.history}}"),
			When:      "{{steps.record.outputs.parameters.done}} == false"}}},
	)
	par := int64(b.sw.Parallel)
	return wfv1.Template{
		Name:        "round",
		Inputs:      wfv1.Inputs{Parameters: []wfv1.Parameter{{Name: "history"}}},
		Parallelism: &par,
		Steps:       steps,
		Outputs: wfv1.Outputs{Parameters: []wfv1.Parameter{{Name: "history", ValueFrom: &wfv1.ValueFrom{
			Expression: "steps.next.status == 'Skipped' ? steps.record.outputs.parameters.history : steps.next.outputs.parameters.history",
		}}}},
	}
}

// trial runs one trial and turns whatever happened into a record: it
// never fails itself, so a failed trial is counted rather than ending the
// sweep. A distributed trial's metrics come from its chief's log.
func (b *builder) trial() wfv1.Template {
	in := []wfv1.Parameter{{Name: "item"}, {Name: "trial"}}
	var runArgs []string
	for _, p := range b.params() {
		in = append(in, wfv1.Parameter{Name: p})
		runArgs = append(runArgs, p, argo.InputParameter(p))
	}
	runArgs = append(runArgs, "trial", argo.InputParameter("trial"))
	cont := &wfv1.ContinueOn{Failed: true, Error: true}
	steps := []wfv1.ParallelSteps{{Steps: []wfv1.WorkflowStep{{Name: "run", Template: "run", Arguments: args(runArgs...), ContinueOn: cont}}}}
	// Only the metric lines travel on: a trial's stdout never passes
	// through an Argo parameter (Argo keeps up to 256 KiB of it per step
	// in the workflow object, which is limited to 1 MiB).
	output := "{{=steps.run.status == 'Succeeded' ? steps.run.outputs.parameters." + metricsKey + " : ''}}"
	if read := b.reader(); read != "" {
		readArgs := args("trial", argo.InputParameter("trial"))
		if b.p != nil || distributed(b.t) {
			// Guarded like the output below: a failed run may have no
			// outputs, and arguments are resolved before when is tested.
			readArgs = args("job", "{{=steps.run.status == 'Succeeded' ? steps.run.outputs.parameters.job : ''}}")
		}
		steps = append(steps, wfv1.ParallelSteps{Steps: []wfv1.WorkflowStep{{Name: read, Template: read,
			Arguments:  readArgs,
			When:       "{{steps.run.status}} == Succeeded",
			ContinueOn: cont,
		}}})
		output = "{{=steps." + read + ".status == 'Succeeded' ? steps." + read + ".outputs.parameters." + metricsKey + " : ''}}"
	}
	collectArgs := []string{"item", argo.InputParameter("item"), "status", "{{steps.run.status}}", "output", output}
	if b.p != nil {
		// The models the trial's pipeline run produced, for the lineage
		// record: guarded as the metrics are.
		collectArgs = append(collectArgs, "models", "{{=steps.outputs.status == 'Succeeded' ? steps.outputs.outputs.parameters.models : ''}}")
	}
	steps = append(steps, wfv1.ParallelSteps{Steps: []wfv1.WorkflowStep{{Name: "collect", Template: "collect",
		Arguments: args(collectArgs...)}}})
	return wfv1.Template{
		Name:    "trial",
		Inputs:  wfv1.Inputs{Parameters: in},
		Steps:   steps,
		Outputs: wfv1.Outputs{Parameters: []wfv1.Parameter{{Name: "record", ValueFrom: &wfv1.ValueFrom{Parameter: "{{steps.collect.outputs.parameters.record}}"}}}},
	}
}

// trialEntry is the training entry with each parameter's arg taken from
// the template's inputs.
func (b *builder) trialEntry() *ir.Training { return argo.WithParameters(b.t, b.params()) }

// runTemplates run the training itself. A single-process job runs as a
// container step labelled with the trial (TrialLabel); the logs step then
// reads the metric lines from its pod's log, or Argo reads its metrics
// file. A distributed job is created as the training operator's resource
// and waited for; the logs step then reads its chief's log. The logs step
// streams the log through the API and keeps only the sweep's metrics.
func (b *builder) runTemplates() ([]wfv1.Template, error) {
	params := append(b.params(), "trial")
	if b.p != nil {
		return b.pipelineTemplates(params)
	}
	t := b.trialEntry()
	if !distributed(b.t) {
		sa := t.ServiceAccount
		if sa == "" {
			sa = render.WorkloadServiceAccount(b.sys)
		}
		var prio string
		labels := map[string]string{TrialLabel: argo.InputParameter("trial")}
		if s := t.Scheduling; s != nil {
			// The trial pod is the workload: it goes through the same
			// Kueue queue (its pod integration) and runs at the same
			// priority as the job would.
			prio = s.PriorityClass
			if s.Queue != "" {
				labels[training.KueueQueueLabel] = s.Queue
			}
		}
		tmpl := argo.ContainerTemplate(b.env, "run", pod.Input{
			Image: t.Image, Command: t.Command, Args: training.Args(t), Env: t.Env,
			Resources: t.Resources, Datasets: t.Datasets, Security: t.Security,
			ServiceAccount: sa, ImagePullSecrets: t.ImagePullSecrets, PriorityClass: prio,
		}, render.WorkflowServiceAccount(b.sys))
		tmpl.Metadata.Labels = labels
		for _, p := range params {
			tmpl.Inputs.Parameters = append(tmpl.Inputs.Parameters, wfv1.Parameter{Name: p})
		}
		if b.sw.Metrics.Collector == "file" {
			tmpl.Outputs.Parameters = []wfv1.Parameter{{Name: metricsKey, ValueFrom: &wfv1.ValueFrom{Path: b.sw.Metrics.Path, Default: wfv1.AnyStringPtr("")}}}
		}
		tmpl.Timeout = b.sw.TrialTimeout
		// A pod lost to preemption, eviction or a node's failure is
		// tried again, not counted as a failed trial; a trial that
		// fails on its own (exit code) is not retried.
		tmpl.RetryStrategy = &wfv1.RetryStrategy{Limit: ptrIntStr(3), RetryPolicy: wfv1.RetryPolicyOnError}
		if b.sw.Metrics.Collector == "file" {
			return []wfv1.Template{tmpl}, nil
		}
		selector := argoWorkflowLabel + "={{workflow.name}}," + TrialLabel + "=" + argo.InputParameter("trial")
		return []wfv1.Template{tmpl, b.logs("trial", selector, argo.MainContainer)}, nil
	}
	// Pods stay after the job ends so the logs step can read them; the
	// job (and its pods) go when the workflow is deleted (ttl).
	t.RunPolicy.CleanPodPolicy = "None"
	// The operator ends the job at the trial's timeout too: Argo's
	// timeout stops only the step that waits for it.
	trialDeadline(t, b.sw)
	job := training.Job(b.sys, b.env, b.sw.Trial, t)
	kind, _ := training.KindFor(b.env.Spec, t)
	run, err := argo.TrainingTemplate(argo.TrainingInput{
		Name:       "run",
		Job:        job,
		Kind:       kind,
		JobName:    JobName,
		Labels:     map[string]string{argo.LabelWorkflow: "{{workflow.name}}"},
		Parameters: params,
	})
	if err != nil {
		return nil, err
	}
	run.Outputs.Parameters = []wfv1.Parameter{{Name: "job", ValueFrom: &wfv1.ValueFrom{JSONPath: "{.metadata.name}"}}}
	run.Timeout = b.sw.TrialTimeout

	container, podLabels := primaryPod(b.t)
	if b.env.Spec.TrainingAPI(b.t) == ir.TrainingV2 {
		container, podLabels = training.PrimaryPodV2(b.t)
	}
	// The operator labels the job's pods with its name.
	selector := []string{kind.PodJobLabel + "=" + argo.InputParameter("job")}
	for _, k := range slices.Sorted(maps.Keys(podLabels)) {
		selector = append(selector, k+"="+podLabels[k])
	}
	return []wfv1.Template{run, b.logs("job", strings.Join(selector, ","), container)}, nil
}

// logs reads the metric lines of a trial from the log of the pod that
// selector finds (the newest that succeeded): selector.py logs streams
// the log through the API with the workflow's service account and writes
// only the sweep's metrics, the last value of each. input is the
// template's one input parameter (used in selector).
func (b *builder) logs(input, selector, container string) wfv1.Template {
	t := argo.ContainerTemplate(b.env, "logs", pod.Input{
		Image:   b.sw.Tools.Python,
		Command: []string{"python3", scriptDir + "/" + scriptKey, "logs"},
		Env: map[string]ir.EnvVar{
			"KILN_POD_SELECTOR": {Value: selector},
			"KILN_CONTAINER":    {Value: container},
		},
		Resources: selectorResources, Security: restricted,
		ServiceAccount: render.WorkflowServiceAccount(b.sys), AutomountToken: true,
	}, "")
	t.Container.VolumeMounts = append(t.Container.VolumeMounts, corev1.VolumeMount{Name: scriptsVol, MountPath: scriptDir, ReadOnly: true})
	t.Inputs.Parameters = []wfv1.Parameter{{Name: input}}
	t.Outputs.Parameters = []wfv1.Parameter{{Name: metricsKey, ValueFrom: &wfv1.ValueFrom{Path: outDir + "/" + metricsKey, Default: wfv1.AnyStringPtr("")}}}
	t.RetryStrategy = &wfv1.RetryStrategy{Limit: ptrIntStr(3)}
	return t
}

// trialDeadline gives a trial's job the sweep's trialTimeout (or, without
// one, the whole sweep's timeout: no trial outlives its run's deadline)
// as its runPolicy.activeDeadlineSeconds, unless the entry has a shorter
// one. The operator then stops the job's pods even when the run that
// created it was stopped or failed.
func trialDeadline(t *ir.Training, sw *ir.Sweep) {
	limit := sw.TrialTimeout
	if limit == "" {
		limit = sw.Timeout
	}
	d, err := time.ParseDuration(limit)
	if limit == "" || err != nil {
		return
	}
	s := int(math.Ceil(d.Seconds()))
	if cur := t.RunPolicy.ActiveDeadlineSeconds; cur == nil || *cur > s {
		t.RunPolicy.ActiveDeadlineSeconds = &s
	}
}

// reader is the step that reads a trial's metrics once its run ended:
// "outputs" for a pipeline run, "logs" for a training job's log; "" for
// the file collector, whose file Argo reads.
func (b *builder) reader() string {
	switch {
	case b.p != nil:
		return "outputs"
	case b.sw.Metrics.Collector == "file" && !distributed(b.t):
		return ""
	}
	return "logs"
}

// pipelineTemplates run a trial of a pipeline: a child Workflow from the
// pipeline's WorkflowTemplate with the trial's parameters as its
// arguments, owned by the sweep's run and waited for; then the selector
// reads the child's step output parameters through the API (its node
// status is a map, which a resource template's jsonPath cannot search)
// and writes the sweep's metrics among them as name=value lines for
// collect.
func (b *builder) pipelineTemplates(params []string) ([]wfv1.Template, error) {
	wf := &wfv1.Workflow{
		TypeMeta: metav1.TypeMeta{APIVersion: argo.APIVersion, Kind: argo.KindWorkflow},
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: render.ObjectName(b.sw.Pipeline) + "-" + argo.InputParameter("trial") + "-",
			Labels:       map[string]string{argo.LabelWorkflow: "{{workflow.name}}"},
		},
		Spec: wfv1.WorkflowSpec{WorkflowTemplateRef: &wfv1.WorkflowTemplateRef{Name: render.ObjectName(b.sw.Pipeline)}},
	}
	for _, p := range b.params() {
		wf.Spec.Arguments.Parameters = append(wf.Spec.Arguments.Parameters, wfv1.Parameter{Name: p, Value: wfv1.AnyStringPtr(argo.InputParameter(p))})
	}
	manifest, err := render.Marshal(argo.Wrap(wf))
	if err != nil {
		return nil, err
	}
	run := wfv1.Template{
		Name: "run",
		Resource: &wfv1.ResourceTemplate{
			Action:            "create",
			Manifest:          string(manifest),
			SetOwnerReference: true,
			SuccessCondition:  "status.phase == Succeeded",
			FailureCondition:  "status.phase in (Failed, Error)",
		},
		Outputs: wfv1.Outputs{Parameters: []wfv1.Parameter{{Name: "job", ValueFrom: &wfv1.ValueFrom{JSONPath: "{.metadata.name}"}}}},
		Timeout: b.sw.TrialTimeout,
	}
	for _, p := range params {
		run.Inputs.Parameters = append(run.Inputs.Parameters, wfv1.Parameter{Name: p})
	}
	read := argo.ContainerTemplate(b.env, "outputs", pod.Input{
		Image:          b.sw.Tools.Python,
		Command:        []string{"python3", scriptDir + "/" + scriptKey, "fetch"},
		Env:            map[string]ir.EnvVar{"KILN_WORKFLOW": {Value: argo.InputParameter("job")}},
		Resources:      selectorResources,
		Security:       restricted,
		ServiceAccount: render.WorkflowServiceAccount(b.sys), AutomountToken: true,
	}, "")
	read.Container.VolumeMounts = append(read.Container.VolumeMounts, corev1.VolumeMount{Name: scriptsVol, MountPath: scriptDir, ReadOnly: true})
	read.Inputs.Parameters = []wfv1.Parameter{{Name: "job"}}
	read.Outputs.Parameters = []wfv1.Parameter{
		{Name: metricsKey, ValueFrom: &wfv1.ValueFrom{Path: outDir + "/" + metricsKey, Default: wfv1.AnyStringPtr("")}},
		{Name: "models", ValueFrom: &wfv1.ValueFrom{Path: outDir + "/models", Default: wfv1.AnyStringPtr("{}")}},
	}
	read.RetryStrategy = &wfv1.RetryStrategy{Limit: ptrIntStr(3)}
	return []wfv1.Template{run, read}, nil
}

// JobName is the name of a distributed trial's job: the run's name and
// the trial's, unique per run and per trial (argo.RunName: without the
// dots a run named by hand may have).
var JobName = argo.RunName + "-" + argo.InputParameter("trial")

// restricted is how kiln's own steps run.
var restricted = ir.Security{Profile: "restricted", RunAsUser: 1000, RunAsGroup: 1000, FSGroup: 1000}

// selector is a step of the selector program: inputs are files (raw
// artifacts, so large histories and logs do not pass through the
// environment), outputs are parameters read from files.
func (b *builder) selector(mode string, inputs []string, env map[string]ir.EnvVar, outputs []string) wfv1.Template {
	t := argo.ContainerTemplate(b.env, mode, pod.Input{
		Image:     b.sw.Tools.Python,
		Command:   []string{"python3", scriptDir + "/" + scriptKey, mode},
		Env:       env,
		Resources: selectorResources,
		Security:  restricted,
	}, render.WorkflowServiceAccount(b.sys))
	t.Container.VolumeMounts = append(t.Container.VolumeMounts, corev1.VolumeMount{Name: scriptsVol, MountPath: scriptDir, ReadOnly: true})
	for _, in := range inputs {
		t.Inputs.Parameters = append(t.Inputs.Parameters, wfv1.Parameter{Name: in})
		t.Inputs.Artifacts = append(t.Inputs.Artifacts, wfv1.Artifact{
			Name: in, Path: inDir + "/" + in,
			ArtifactLocation: wfv1.ArtifactLocation{Raw: &wfv1.RawArtifact{Data: argo.InputParameter(in)}},
		})
	}
	for _, out := range outputs {
		t.Outputs.Parameters = append(t.Outputs.Parameters, wfv1.Parameter{Name: strings.TrimSuffix(out, ".md"), ValueFrom: &wfv1.ValueFrom{Path: outDir + "/" + out}})
	}
	if mode == "summary" && b.artifacts() {
		for _, a := range []string{"summary.md", "history.json"} {
			t.Outputs.Artifacts = append(t.Outputs.Artifacts, wfv1.Artifact{
				Name: strings.TrimSuffix(strings.TrimSuffix(a, ".md"), ".json"), Path: outDir + "/" + a,
				Archive: &wfv1.ArchiveStrategy{None: &wfv1.NoneStrategy{}},
			})
		}
	}
	return t
}

// collect turns one trial's output into its record: its metrics, and a
// pipeline trial's models.
func (b *builder) collect() wfv1.Template {
	inputs := []string{"output"}
	if b.p != nil {
		inputs = append(inputs, "models")
	}
	t := b.selector("collect", inputs, map[string]ir.EnvVar{
		"KILN_TRIAL":  {Value: argo.InputParameter("item")},
		"KILN_STATUS": {Value: argo.InputParameter("status")},
	}, []string{"record"})
	t.Inputs.Parameters = append([]wfv1.Parameter{{Name: "item"}, {Name: "status"}}, t.Inputs.Parameters...)
	return t
}

// suggest runs the suggestion container: it reads the request (the
// history) from SuggestionRequest and writes the next trials to
// SuggestionNext, both named in its environment (KILN_SWEEP_REQUEST,
// KILN_SWEEP_NEXT). Without a suggestion image of the sweep's own it is
// kiln's suggester (`kiln suggest`, a TPE) in the kiln image.
func (b *builder) suggest() wfv1.Template {
	image, command := b.sw.Tools.Kiln, SuggestCommand
	if s := b.sw.Suggestion; s != nil {
		image, command = s.Image, s.Command
	}
	t := argo.ContainerTemplate(b.env, "suggest", pod.Input{
		Image:   image,
		Command: command,
		Env: map[string]ir.EnvVar{
			"KILN_SWEEP_REQUEST": {Value: SuggestionRequest},
			"KILN_SWEEP_NEXT":    {Value: SuggestionNext},
		},
		Resources: ir.Resources{CPU: "500m", Memory: "512Mi"},
		Security:  restricted,
	}, render.WorkflowServiceAccount(b.sys))
	t.Inputs.Parameters = []wfv1.Parameter{{Name: "request"}}
	t.Inputs.Artifacts = []wfv1.Artifact{{Name: "request", Path: SuggestionRequest,
		ArtifactLocation: wfv1.ArtifactLocation{Raw: &wfv1.RawArtifact{Data: argo.InputParameter("request")}}}}
	t.Outputs.Parameters = []wfv1.Parameter{{Name: "next", ValueFrom: &wfv1.ValueFrom{Path: SuggestionNext}}}
	return t
}

// args builds step arguments from name, value pairs.
func args(kv ...string) wfv1.Arguments {
	var a wfv1.Arguments
	for i := 0; i+1 < len(kv); i += 2 {
		a.Parameters = append(a.Parameters, wfv1.Parameter{Name: kv[i], Value: wfv1.AnyStringPtr(kv[i+1])})
	}
	return a
}

func ptrIntStr(n int) *intstr.IntOrString { v := intstr.FromInt32(int32(n)); return &v }
