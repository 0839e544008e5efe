package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/lineagestep"
	"github.com/kiln-ml/kiln/render/pod"
	"github.com/kiln-ml/kiln/render/training"
)

// Component is the app.kubernetes.io/component of pipeline objects.
const Component = "pipeline"

// Where step containers find their inputs and leave their outputs.
const (
	ArtifactDir = "/tmp/artifacts"
	OutputDir   = "/tmp/outputs"
)

// itemParam carries a withItems item into the step's template, where
// {{item}} does not resolve.
const itemParam = "item"

// modelURIParam carries a promote step's model URI taken from another
// step's output.
const modelURIParam = "kiln-model-uri"

// Resources of the promote container: it clones a repository and
// commits one change.
var promoteResources = ir.Resources{CPU: "100m", Memory: "256Mi"}

// Renderer renders pipeline entries.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "pipelines" }

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	s := c.Env.Spec
	// A step that uses a component without setting resources runs with
	// the component's.
	for _, name := range slices.Sorted(maps.Keys(s.Components)) {
		if r := s.Components[name].Resources; r != nil {
			c.NeedResources(*r)
		}
	}
	diags := unbuilt(c)
	if len(s.Pipelines) == 0 {
		return diags
	}
	c.NeedWorkflows()
	for _, name := range slices.Sorted(maps.Keys(s.Pipelines)) {
		needs(c, name, s.Pipelines[name])
	}
	var caches []string
	memoPath := "" // where the first memoized pipeline is written
	for _, name := range slices.Sorted(maps.Keys(s.Pipelines)) {
		g := newGraph(name, s.Pipelines[name])
		if !Check(c, g) {
			continue
		}
		wt, memo, _, err := WorkflowTemplate(c.System, c.Env, g)
		if err != nil {
			var pe *pathError
			if errors.As(err, &pe) {
				c.Errorf(pe.path, "%s", pe.msg)
			} else {
				c.Errorf(g.path, "%v", err)
			}
			continue
		}
		origin := c.Origin(g.path, Component, render.ObjectName(name))
		origin.PodSecurity = render.PodSecurityOf(g.p.Security)
		if len(g.builds.byImage) > 0 {
			// The build steps run as root (their images' build.security).
			origin.PodSecurity = render.PodSecurityBaseline
		}
		c.Add(argo.Wrap(wt), origin)
		if n := g.p.MaxRuns; n > 0 {
			wt.Spec.Synchronization = argo.Limit(RunLimitName(name), n)
			if n > 1 {
				c.Add(argo.SemaphoreConfigMap(RunLimitName(name), n), c.Origin(ir.Join(g.path, "maxRuns"), Component, render.ObjectName(name)))
			}
		}
		if memo != "" {
			if memoPath == "" {
				memoPath = g.path
			}
			caches = append(caches, memo)
			c.Add(argo.MemoCache(memo), origin)
		}
		if sch := g.p.Schedule; sch != nil {
			c.Add(argo.Wrap(argo.CronWorkflow(wt.Name, wt.Name, sch)), c.Origin(ir.Join(g.path, "schedule"), Component, render.ObjectName(name)))
		}
	}
	if s.Artifacts != nil {
		cm, err := argo.ArtifactRepositoryConfigMap(c.System, s.Artifacts)
		switch {
		case s.Artifacts.S3 != nil && s.Artifacts.GCS != nil:
			// Usually an override switching stores: point at gcs, which
			// the override sets in that environment.
			c.Errorf(ir.Path("artifacts", "gcs"), "the artifact repository sets both s3 and gcs; keep one (an environment override that switches stores removes the other with s3: null)")
		case err != nil:
			c.Errorf("artifacts", "the artifact repository sets neither s3 nor gcs; set one")
		default:
			c.Add(cm, c.Origin("artifacts", Component, c.System.Name))
		}
	}
	if len(caches) > 0 {
		role, binding := argo.MemoRBAC(c.System.Name+"-memoize", caches, Controller(s))
		// The controller's identity is set in workflows, if anywhere;
		// otherwise the first pipeline that needs the rights explains them.
		if c.Env.Spec.Workflows != nil {
			memoPath = "workflows"
		}
		origin := c.Origin(memoPath, Component, c.System.Name)
		c.Add(role, origin)
		c.Add(binding, origin)
	}
	return diags
}

// needs declares what a pipeline's pods need of the environment: their
// Pod Security level, the MIG profiles its steps request, and access to
// the kinds of the training jobs its steps create. A step applies its job
// (get, then create or patch on a retry) and the exit handler deletes it.
func needs(c *render.Context, name string, p *ir.Pipeline) {
	s := c.Env.Spec
	c.NeedPodSecurity(ir.Path("pipelines", name), p.Security)
	for _, b := range planBuilds(c.Env, newGraph(name, p)).tasks() {
		// The spec asked for it (the compiler refuses a build without
		// security: "baseline"), so this needs no warning.
		c.NeedBaseline(render.BaselineReason{Path: ir.Path("images", b.image, "build", "security"), Why: "pipelines." + name + " builds images." + b.image + ", which runs as root"})
		c.NeedResources(b.b.Resources)
	}
	for _, st := range slices.Sorted(maps.Keys(p.Steps)) {
		step := p.Steps[st]
		if step.Resources != nil {
			c.NeedResources(*step.Resources)
		}
		tr := step.Training
		if comp := s.Components[step.Component]; tr == "" && comp != nil {
			tr = comp.Training
		}
		if t := s.Training[tr]; t != nil {
			if k, ok := training.KindFor(s, t); ok {
				c.NeedJobAccess(k, "create", "get", "patch", "delete")
			}
		}
	}
}

// Controller is the Argo workflow controller of the environment.
func Controller(s *ir.Spec) argo.Controller {
	c := argo.Controller{Namespace: "argo", ServiceAccount: "argo"}
	if w := s.Workflows; w != nil {
		if w.Controller.Namespace != "" {
			c.Namespace = w.Controller.Namespace
		}
		if w.Controller.ServiceAccount != "" {
			c.ServiceAccount = w.Controller.ServiceAccount
		}
	}
	return c
}

// ServiceAccount is the account a pipeline's pods run as.
func ServiceAccount(sys *ir.System, p *ir.Pipeline) string {
	if p.ServiceAccount != "" {
		return p.ServiceAccount
	}
	return render.WorkflowServiceAccount(sys)
}

// RunLimitName names the mutex or semaphore that caps a pipeline's runs.
func RunLimitName(pipeline string) string { return render.ObjectName(pipeline) + "-runs" }

// MemoCacheName is the cache ConfigMap of a pipeline's memoized steps.
func MemoCacheName(pipeline string) string { return render.ObjectName(pipeline) + "-memo" }

// pathError is a problem rendering a pipeline, at a spec path. Check
// reports these first; rendering still refuses rather than drop what it
// cannot translate.
type pathError struct {
	path, msg string
}

func (e *pathError) Error() string { return e.path + ": " + e.msg }

// WorkflowTemplate renders a checked pipeline. It returns the name of
// the memoization cache if a step is memoized, and whether the pipeline
// passes artifacts. A step it cannot render (a condition that does not
// translate) is an error, never left out.
func WorkflowTemplate(sys *ir.System, env *ir.Environment, g *graph) (*wfv1.WorkflowTemplate, string, bool, error) {
	p := g.p
	sa := ServiceAccount(sys, p)
	g.lineage, _ = recordsLineage(env, g)
	g.builds = planBuilds(env, g)
	wt := argo.WorkflowTemplate(render.ObjectName(g.name))
	spec := &wt.Spec
	spec.Entrypoint = entrypoint(g)
	spec.ServiceAccountName = sa
	spec.PodGC = &wfv1.PodGC{Strategy: wfv1.PodGCStrategy(p.PodGC)}
	spec.PodMetadata = &wfv1.Metadata{Labels: map[string]string{
		render.LabelName:      render.ObjectName(g.name),
		render.LabelPartOf:    sys.Name,
		render.LabelComponent: Component,
		render.LabelManagedBy: render.ManagedBy,
	}}
	if p.Parallelism > 0 {
		spec.Parallelism = new(int64(p.Parallelism))
	}
	if p.Timeout != "" {
		if d, err := time.ParseDuration(p.Timeout); err == nil {
			spec.ActiveDeadlineSeconds = new(int64(d.Seconds()))
		}
	}
	if t := p.TTL; t != nil {
		spec.TTLStrategy = &wfv1.TTLStrategy{
			SecondsAfterCompletion: i32(t.AfterCompletion),
			SecondsAfterSuccess:    i32(t.AfterSuccess),
			SecondsAfterFailure:    i32(t.AfterFailure),
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Parameters)) {
		par := p.Parameters[name]
		ap := wfv1.Parameter{Name: name, Description: wfv1.AnyStringPtr(par.Description)}
		if par.Description == "" {
			ap.Description = nil
		}
		if par.Default != nil {
			ap.Value = wfv1.AnyStringPtr(par.Default.String())
		}
		for _, e := range par.Enum {
			ap.Enum = append(ap.Enum, wfv1.AnyString(e))
		}
		spec.Arguments.Parameters = append(spec.Arguments.Parameters, ap)
	}

	pinned := g.pinned()
	// Output parameters that a condition compares as numbers.
	numeric := map[string]map[string]bool{} // producer -> outputs
	for _, n := range g.stepNames() {
		for _, ref := range g.numericRefs(n, g.steps[n].When) {
			m := refRE.FindStringSubmatch(ref)
			if m == nil || m[1] == ParametersRef {
				continue
			}
			if numeric[m[1]] == nil {
				numeric[m[1]] = map[string]bool{}
			}
			numeric[m[1]][m[2]] = true
		}
	}

	memo := ""
	usesArtifacts := false
	dag := &wfv1.DAGTemplate{}
	var templates []wfv1.Template
	var userExit *wfv1.DAGTask
	// Builds first: the steps that run their images wait for them.
	for _, b := range g.builds.tasks() {
		templates = append(templates, buildTemplate(env, g, b, sa))
		dag.Tasks = append(dag.Tasks, wfv1.DAGTask{Name: b.task, Template: b.task})
	}
	for _, n := range g.stepNames() {
		st := g.steps[n]
		tmpl, task, err := stepTemplate(sys, env, g, n, st, sa, pinned[n], numeric[n])
		if err != nil {
			return nil, "", false, err
		}
		if st.Memoize != nil {
			memo = MemoCacheName(g.name)
			tmpl.Memoize = argo.Memoize(memo, memoKey(g.name, n, tmpl), st.Memoize.MaxAge)
		}
		if st.Outputs != nil && len(st.Outputs.Artifacts) > 0 || st.Inputs != nil && len(st.Inputs.Artifacts) > 0 {
			usesArtifacts = true
		}
		templates = append(templates, tmpl)
		if n == p.OnExit {
			// The exit handler is called without arguments: its inputs
			// carry their values themselves.
			for i, a := range task.Arguments.Parameters {
				tmpl.Inputs.Parameters[i].Value = a.Value
			}
			spec.OnExit = tmpl.Name
			templates[len(templates)-1] = tmpl
			userExit = &wfv1.DAGTask{Name: task.Name, Template: tmpl.Name}
			continue
		}
		dag.Tasks = append(dag.Tasks, task)
	}
	spec.Templates = append([]wfv1.Template{{Name: spec.Entrypoint, DAG: dag}}, templates...)
	if (usesArtifacts || g.lineage) && env.Spec.Artifacts != nil {
		spec.ArtifactRepositoryRef = argo.ArtifactRepositoryRef(sys)
	}
	var record *wfv1.Template
	if g.lineage {
		// The digest of everything but the step that records it.
		t := lineageTemplate(sys, env, g, freeName(g, "lineage", "kiln-lineage"), sa, lineagestep.Digest(spec))
		record = &t
	}
	exit, err := exitTemplates(env, g, userExit, record)
	if err != nil {
		return nil, "", false, err
	}
	if len(exit) > 0 {
		spec.OnExit = exit[0].Name
		spec.Templates = append(spec.Templates, exit...)
	}
	return wt, memo, usesArtifacts, nil
}

// pinned lists, per producing step, the artifacts stored at a fixed key
// (pinnedKey) so that a consumer can be handed their URI: the model a
// promote step rolls out, and every artifact a training step takes,
// since the job's pods read it from the repository themselves.
func (g *graph) pinned() map[string]map[string]bool {
	pinned := map[string]map[string]bool{} // producer -> artifacts
	pin := func(user, a string) {
		if prod, problem := g.producer(user, a); problem == "" {
			if pinned[prod] == nil {
				pinned[prod] = map[string]bool{}
			}
			pinned[prod][a] = true
		}
	}
	for _, n := range g.stepNames() {
		st := g.steps[n]
		switch {
		case st.Inputs == nil:
		case st.Training != "":
			for _, a := range st.Inputs.Artifacts {
				pin(n, a)
			}
		case st.Promote != nil && st.Promote.StorageURI == "" && len(st.Inputs.Parameters) == 0 && len(st.Inputs.Artifacts) == 1:
			pin(n, st.Inputs.Artifacts[0])
		}
	}
	return pinned
}

// freeName is the first candidate that no step's template takes.
func freeName(g *graph, candidates ...string) string {
	taken := map[string]bool{entrypoint(g): true}
	for n := range g.steps {
		taken[render.ObjectName(n)] = true
	}
	for _, c := range candidates {
		if !taken[c] {
			return c
		}
	}
	for i := 2; ; i++ {
		if c := fmt.Sprintf("%s-%d", candidates[0], i); !taken[c] {
			return c
		}
	}
}

// exitTemplates are the exit handler of a pipeline with training steps
// or a lineage record: a DAG that, unless the run succeeded, deletes the
// jobs the run created (a failed, timed-out or stopped run only stops its
// waiter pods, and the jobs would train on until the run is deleted), and
// writes the run's lineage record, whatever the outcome, next to the
// user's own exit step, if any. The first template is the handler; none
// when there is nothing but the user's step, which is then the handler.
func exitTemplates(env *ir.Environment, g *graph, userExit *wfv1.DAGTask, record *wfv1.Template) ([]wfv1.Template, error) {
	var jobs []argo.JobRef
	for _, n := range g.stepNames() {
		st := g.steps[n]
		if st.Training == "" || n == g.p.OnExit {
			continue
		}
		t := env.Spec.Training[st.Training]
		if t == nil {
			continue
		}
		k, ok := training.KindFor(env.Spec, t)
		if !ok {
			continue
		}
		jobs = append(jobs, argo.JobRef{APIVersion: k.APIVersion(), Kind: k.Kind, Namespace: env.Namespace, Name: JobName(n)})
	}
	if len(jobs) == 0 && record == nil {
		return nil, nil
	}
	var tasks []wfv1.DAGTask
	var templates []wfv1.Template
	if len(jobs) > 0 {
		del, err := argo.DeleteJobsTemplate(freeName(g, "delete-jobs", "kiln-delete-jobs"), jobs)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, wfv1.DAGTask{Name: del.Name, Template: del.Name, When: "'{{workflow.status}}' != 'Succeeded'"})
		templates = append(templates, del)
	}
	if record != nil {
		tasks = append(tasks, wfv1.DAGTask{Name: record.Name, Template: record.Name})
		templates = append(templates, *record)
	}
	if userExit != nil {
		tasks = append(tasks, *userExit)
	}
	handler := freeName(g, "exit-handler", "kiln-exit-handler")
	return append([]wfv1.Template{{Name: handler, DAG: &wfv1.DAGTemplate{Tasks: tasks}}}, templates...), nil
}

// entrypoint names the DAG template: "main", unless a step has that name.
func entrypoint(g *graph) string {
	for _, n := range []string{"main", "dag", "pipeline", "kiln-main"} {
		if _, taken := g.steps[n]; !taken {
			if _, taken := g.steps[strings.ReplaceAll(n, "-", "_")]; !taken {
				return n
			}
		}
	}
	return "kiln-entrypoint"
}

// stepTemplate renders one step into its template and its DAG task.
func stepTemplate(sys *ir.System, env *ir.Environment, g *graph, name string, st *ir.Step, sa string, pinned, numeric map[string]bool) (wfv1.Template, wfv1.DAGTask, error) {
	tname := render.ObjectName(name)
	task := wfv1.DAGTask{Name: tname, Template: tname}
	task.Depends = g.depends(name, st)
	if st.When != "" {
		when, err := g.translateWhen(name, st.When)
		if err != nil {
			// Without its condition the step would run unconditionally
			// (a conditional promote would always promote).
			return wfv1.Template{}, wfv1.DAGTask{}, &pathError{path: ir.Join(g.path, "steps", name, "when"), msg: err.Error()}
		}
		task.When = when
	}
	for _, it := range st.WithItems {
		var item wfv1.Item
		_ = json.Unmarshal(it.RawMessage, &item)
		task.WithItems = append(task.WithItems, item)
	}

	// Input parameters: the task passes the resolved values.
	params := map[string]string{}
	if st.Inputs != nil {
		for k, v := range st.Inputs.Parameters {
			r, _ := g.resolve(name, v)
			params[k] = r.expr
		}
	}
	if len(st.WithItems) > 0 {
		params[itemParam] = "{{item}}"
	}

	var tmpl wfv1.Template
	switch {
	case st.Training != "":
		tmpl = trainingTemplate(sys, env, g, name, st, params)
	case st.Promote != nil:
		tmpl = promoteTemplate(sys, env, g, name, st, sa, params)
	default:
		tmpl = containerTemplate(env, g, name, st, sa, params)
	}
	tmpl.Name = tname
	for _, k := range slices.Sorted(maps.Keys(params)) {
		tmpl.Inputs.Parameters = append(tmpl.Inputs.Parameters, wfv1.Parameter{Name: k})
		task.Arguments.Parameters = append(task.Arguments.Parameters, wfv1.Parameter{Name: k, Value: wfv1.AnyStringPtr(params[k])})
	}
	if b := g.builds.byStep[name]; b != nil {
		useBuild(b, &tmpl, &task)
	}
	// A promote step and a training step are handed their artifacts'
	// URIs: nothing of theirs would read a download.
	if st.Inputs != nil && st.Promote == nil && st.Training == "" {
		for _, a := range st.Inputs.Artifacts {
			prod, _ := g.producer(name, a)
			tmpl.Inputs.Artifacts = append(tmpl.Inputs.Artifacts, wfv1.Artifact{Name: a, Path: ArtifactDir + "/" + a})
			task.Arguments.Artifacts = append(task.Arguments.Artifacts, wfv1.Artifact{Name: a, From: "{{tasks." + render.ObjectName(prod) + ".outputs.artifacts." + a + "}}"})
		}
	}
	if st.Outputs != nil && st.Training == "" && st.Promote == nil {
		for _, o := range st.Outputs.Parameters {
			// A default, so that a step that was skipped (or failed
			// before writing it) does not make every reference fail to
			// resolve. Not for an output a condition compares as a
			// number: "" there is a parse error in Argo's evaluator,
			// which fails the whole run, and no number is a safe
			// stand-in (0 passes "loss < 0.1"). Without a default the
			// step fails when it did not write the file, which says
			// what went wrong.
			vf := &wfv1.ValueFrom{Path: OutputDir + "/" + o}
			if !numeric[o] {
				vf.Default = wfv1.AnyStringPtr("")
			}
			out := wfv1.Parameter{Name: o, ValueFrom: vf}
			if g.lineage && g.exported(name) {
				// For the lineage record, which the exit handler writes.
				out.GlobalName = globalOutput(name, o)
			}
			tmpl.Outputs.Parameters = append(tmpl.Outputs.Parameters, out)
		}
		for _, a := range st.Outputs.Artifacts {
			// Stored as they are, not as a tar.gz: a directory becomes
			// objects under the key, which consumers (training jobs,
			// serving) can read directly, and the wait container does
			// not gzip large data.
			art := wfv1.Artifact{Name: a, Path: ArtifactDir + "/" + a, Archive: &wfv1.ArchiveStrategy{None: &wfv1.NoneStrategy{}}}
			if pinned[a] {
				art.ArtifactLocation = pinnedLocation(env.Spec.Artifacts, g.name, name, a)
			}
			tmpl.Outputs.Artifacts = append(tmpl.Outputs.Artifacts, art)
		}
	}
	if r := st.Retry; r != nil {
		rs := &wfv1.RetryStrategy{Limit: new(intstr.FromInt32(int32(r.Limit))), RetryPolicy: wfv1.RetryPolicy(r.Policy)}
		if b := r.Backoff; b != nil {
			rs.Backoff = &wfv1.Backoff{Duration: b.Duration, Factor: new(intstr.FromInt32(int32(b.Factor))), MaxDuration: b.MaxDuration}
		}
		tmpl.RetryStrategy = rs
	}
	tmpl.Timeout = st.Timeout
	return tmpl, task, nil
}

// replaceItem points {{item}} at the template's item parameter.
func replaceItem(s string) string {
	return strings.ReplaceAll(s, "{{item}}", argo.InputParameter(itemParam))
}

func replaceItems(l []string) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = replaceItem(s)
	}
	return out
}

// containerTemplate renders a container step. Input parameters are also
// environment variables PARAM_<NAME>.
func containerTemplate(env *ir.Environment, g *graph, name string, st *ir.Step, sa string, params map[string]string) wfv1.Template {
	envs := map[string]ir.EnvVar{}
	for k, v := range st.Env {
		if v.Secret == nil {
			v.Value = replaceItem(v.Value)
		}
		envs[k] = v
	}
	for k := range params {
		envs["PARAM_"+strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(k))] = ir.EnvVar{Value: argo.InputParameter(k)}
	}
	in := pod.Input{
		Image:    st.Image,
		Command:  replaceItems(st.Command),
		Args:     replaceItems(st.Args),
		Env:      envs,
		Datasets: st.Datasets,
		Security: g.p.Security,
	}
	if st.Resources != nil {
		in.Resources = *st.Resources
	}
	return argo.ContainerTemplate(env, render.ObjectName(name), in, sa)
}

// trainingTemplate renders a step that runs a training job. The job's
// hyperparameters are overridden by the step's input parameters of the
// same name, else by pipeline parameters of the same name; overridden
// ones become input parameters of the template.
func trainingTemplate(sys *ir.System, env *ir.Environment, g *graph, name string, st *ir.Step, params map[string]string) wfv1.Template {
	orig := env.Spec.Training[st.Training]
	for k := range orig.Args {
		if _, ok := params[k]; !ok {
			if _, ok := g.p.Parameters[k]; ok {
				params[k] = "{{workflow.parameters." + k + "}}"
			}
		}
	}
	t := argo.WithParameters(orig, slices.Sorted(maps.Keys(params)))
	if g.builds.byStep[name] != nil {
		// The image this run built (useBuild adds the parameter).
		t.Image = argo.InputParameter(imageParam)
	}
	// The step's timeout only ends the waiter pod: the job gets it
	// (else the pipeline's) as its own deadline, so the operator stops
	// its pods too. A shorter deadline of the entry's own stays.
	if d := jobDeadline(g.p, st); d > 0 && (t.RunPolicy.ActiveDeadlineSeconds == nil || *t.RunPolicy.ActiveDeadlineSeconds > d) {
		t.RunPolicy.ActiveDeadlineSeconds = &d
	}
	// Artifacts are handed over by URI, as ARTIFACT_<NAME>_URI.
	if st.Inputs != nil && len(st.Inputs.Artifacts) > 0 && env.Spec.Artifacts != nil {
		t.Env = maps.Clone(t.Env)
		if t.Env == nil {
			t.Env = map[string]ir.EnvVar{}
		}
		for _, a := range st.Inputs.Artifacts {
			prod, problem := g.producer(name, a)
			if problem != "" {
				continue
			}
			t.Env[ArtifactEnv(a)] = ir.EnvVar{Value: artifactURI(env.Spec.Artifacts, g.name, prod, a)}
		}
	}
	job := training.Job(sys, env, st.Training, t)
	job.SetNamespace(env.Namespace)
	kind, _ := training.KindFor(env.Spec, t)
	tmpl, err := argo.TrainingTemplate(argo.TrainingInput{
		Name:    render.ObjectName(name),
		Job:     job,
		Kind:    kind,
		JobName: JobName(name),
		Labels: map[string]string{
			render.LabelName:      render.ObjectName(st.Training),
			render.LabelPartOf:    sys.Name,
			render.LabelComponent: training.Component,
			render.LabelManagedBy: render.ManagedBy,
			"kiln.dev/pipeline":   render.ObjectName(g.name),
		},
	})
	if err != nil {
		panic(fmt.Sprintf("pipeline: %v", err)) // marshaling a typed job cannot fail
	}
	return tmpl
}

// ArtifactEnv is the environment variable that gives a training job the
// URI of an input artifact.
func ArtifactEnv(artifact string) string {
	return "ARTIFACT_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(artifact)) + "_URI"
}

// jobDeadline is the deadline, in seconds, of the job a training step
// creates: the step's timeout, else the pipeline's; 0 if neither is set.
func jobDeadline(p *ir.Pipeline, st *ir.Step) int {
	for _, s := range []string{st.Timeout, p.Timeout} {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return int(math.Ceil(d.Seconds()))
		}
	}
	return 0
}

// JobName is the name of the job a training step creates: one per run
// and step, so that two steps may run the same training entry. The run's
// name is argo.RunName: a run named by hand with a dot still gets a job
// name the operators accept.
func JobName(step string) string { return argo.RunName + "-" + render.ObjectName(step) }

// GitTokenKey is the default key of the Secret holding a Git token.
const GitTokenKey = "token"

// promoteTemplate renders a promote step: `kiln promote` commits the new
// model to the spec in Git (or opens a pull request), and Argo CD rolls
// it out.
func promoteTemplate(sys *ir.System, env *ir.Environment, g *graph, name string, st *ir.Step, sa string, params map[string]string) wfv1.Template {
	pr := st.Promote
	uri := modelURI(env, g, name, st, params)
	args := []string{"promote", sys.Name + "/" + pr.Serving, "--model-uri", uri}
	if pr.Canary != nil {
		args = append(args, "--canary", fmt.Sprint(*pr.Canary))
	}
	// A run in one environment promotes in that environment only: the
	// others keep their models until their own pipelines promote.
	args = append(args, "--env", env.Name)
	args = append(args, "--repo", pr.Repository.URL)
	if pr.Repository.Branch != "" {
		args = append(args, "--branch", pr.Repository.Branch)
	}
	if pr.Repository.Spec != "" {
		args = append(args, "--spec", pr.Repository.Spec)
	}
	if g.lineage {
		// The serving entry names the run's record (written when the
		// run ends, at a key known now), and the record names the
		// commit or pull request.
		args = append(args, "--lineage", LineageURI(sys, env, g.name), "--result", OutputDir+"/"+promotionOutput)
	}
	secret := func(r ir.SecretRef) ir.EnvVar {
		if r.Key == "" {
			r.Key = GitTokenKey
		}
		return ir.EnvVar{Secret: &r}
	}
	envs := map[string]ir.EnvVar{"KILN_GIT_TOKEN": secret(pr.Repository.Credentials)}
	if pr.GitHub {
		args = append(args, "--github")
		creds := pr.Repository.Credentials
		if pr.GitHubCredentials != nil {
			creds = *pr.GitHubCredentials
		}
		envs["GITHUB_TOKEN"] = secret(creds)
	}
	in := pod.Input{
		Image:     pr.Image,
		Command:   []string{"kiln"},
		Args:      args,
		Env:       envs,
		Resources: promoteResources,
		Security:  g.p.Security,
	}
	t := argo.ContainerTemplate(env, render.ObjectName(name), in, sa)
	if g.lineage {
		out := wfv1.Parameter{Name: promotionOutput, ValueFrom: &wfv1.ValueFrom{Path: OutputDir + "/" + promotionOutput, Default: wfv1.AnyStringPtr("")}}
		if g.exported(name) {
			out.GlobalName = globalOutput(name, promotionOutput)
		}
		t.Outputs.Parameters = append(t.Outputs.Parameters, out)
	}
	return t
}

// modelURI is the model a promote step rolls out: its storageUri, else
// its one input parameter, else the repository URI of its one input
// artifact.
func modelURI(env *ir.Environment, g *graph, name string, st *ir.Step, params map[string]string) string {
	if u := st.Promote.StorageURI; u != "" {
		r, _ := g.resolve(name, u)
		if !r.ref {
			return r.expr
		}
		params[modelURIParam] = r.expr
		return argo.InputParameter(modelURIParam)
	}
	if st.Inputs != nil && len(st.Inputs.Parameters) == 1 {
		for k := range st.Inputs.Parameters {
			return argo.InputParameter(k)
		}
	}
	if st.Inputs != nil && len(st.Inputs.Artifacts) == 1 && env.Spec.Artifacts != nil {
		a := st.Inputs.Artifacts[0]
		prod, _ := g.producer(name, a)
		return artifactURI(env.Spec.Artifacts, g.name, prod, a)
	}
	return ""
}

// pinnedKey is where an artifact a promote step names is stored.
func pinnedKey(prefix, pipeline, step, artifact string) string {
	k := render.ObjectName(pipeline) + "/{{workflow.name}}/" + render.ObjectName(step) + "/" + artifact
	if prefix != "" {
		k = strings.TrimSuffix(prefix, "/") + "/" + k
	}
	return k
}

func pinnedLocation(r *ir.ArtifactRepository, pipeline, step, artifact string) wfv1.ArtifactLocation {
	switch {
	case r == nil:
		return wfv1.ArtifactLocation{}
	case r.S3 != nil:
		return wfv1.ArtifactLocation{S3: &wfv1.S3Artifact{Key: pinnedKey(r.S3.KeyPrefix, pipeline, step, artifact)}}
	case r.GCS != nil:
		return wfv1.ArtifactLocation{GCS: &wfv1.GCSArtifact{Key: pinnedKey(r.GCS.KeyPrefix, pipeline, step, artifact)}}
	}
	return wfv1.ArtifactLocation{}
}

func artifactURI(r *ir.ArtifactRepository, pipeline, step, artifact string) string {
	switch {
	case r.S3 != nil:
		return "s3://" + r.S3.Bucket + "/" + pinnedKey(r.S3.KeyPrefix, pipeline, step, artifact)
	case r.GCS != nil:
		return "gs://" + r.GCS.Bucket + "/" + pinnedKey(r.GCS.KeyPrefix, pipeline, step, artifact)
	}
	return ""
}

// memoKey identifies a step's result in the cache: the pipeline, the step
// and a digest of every input parameter (the item included). Argo only
// takes keys of letters, digits and '-', which parameter values (URIs)
// are not, hence the digest, computed by Argo's expression language.
func memoKey(pipeline, step string, tmpl wfv1.Template) string {
	key := render.ObjectName(pipeline) + "-" + render.ObjectName(step)
	if len(tmpl.Inputs.Parameters) == 0 {
		return key
	}
	var vals []string
	for _, p := range tmpl.Inputs.Parameters {
		vals = append(vals, "inputs.parameters['"+p.Name+"']")
	}
	return key + "-{{=sprig.sha1sum(" + strings.Join(vals, " + '\\n' + ") + ")}}"
}

func i32(v *int) *int32 {
	if v == nil {
		return nil
	}
	n := int32(*v)
	return &n
}

// Kinds implements render.KindDeclarer.
func (Renderer) Kinds() []render.Kind { return argo.Kinds() }
