package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/training"
)

// Check reports what Argo would refuse, or what would fail at run time,
// about a pipeline, and whether it can be rendered.
func Check(rc *render.Context, g *graph) bool {
	c := &checker{Context: rc}
	checkSchedule(c, g)
	checkExit(c, g)
	if l := g.p.Lineage; l != nil && *l {
		if ok, why := recordsLineage(c.Env, g); !ok {
			c.Errorf(ir.Join(g.path, "lineage"), "the pipeline's runs cannot write lineage records: %s (or set lineage: false)", why)
		}
	}
	checkPinned(c, g)
	for _, name := range g.stepNames() {
		st := g.steps[name]
		path := ir.Join(g.path, "steps", name)
		if st.When != "" {
			if _, err := g.translateWhen(name, st.When); err != nil {
				c.Errorf(ir.Join(path, "when"), "%v", err)
			}
		}
		if st.Inputs != nil {
			for _, k := range slices.Sorted(maps.Keys(st.Inputs.Parameters)) {
				if _, problem := g.resolve(name, st.Inputs.Parameters[k]); problem != "" {
					c.Errorf(ir.Join(path, "inputs", "parameters", k), "%s", problem)
				}
			}
			for i, a := range st.Inputs.Artifacts {
				from, problem := g.producer(name, a)
				if problem != "" {
					c.Errorf(ir.Index(ir.Join(path, "inputs", "artifacts"), i), "%s", problem)
					continue
				}
				// Argo gathers the output parameters of a step that
				// fans out, never its artifacts. (A promote or training
				// step's artifact is refused at its producer instead,
				// by checkPinned.)
				if len(g.steps[from].WithItems) > 0 && st.Training == "" && st.Promote == nil {
					c.Errorf(ir.Index(ir.Join(path, "inputs", "artifacts"), i), "step %s takes artifact %q from step %s, which fans out (withItems): Argo gathers the output parameters of the items, never their artifacts, so the run would fail here; pass the items' results as output parameters (Argo gathers them into a JSON list), or produce the artifact in a step that runs once", name, a, from)
				}
			}
		}
		if st.Outputs != nil && (len(st.Outputs.Artifacts) > 0) && c.Env.Spec.Artifacts == nil {
			c.Errorf(ir.Join(path, "outputs", "artifacts"), "step %s passes artifacts, but environment %s has no artifact repository: set artifacts.s3 (S3 or MinIO) or artifacts.gcs", name, c.Env.Name)
		}
		if st.Promote != nil {
			checkPromote(c, g, path, name, st)
		}
		if st.Memoize != nil && st.Retry != nil {
			// Seen on Argo v3.6.10 in the end-to-end suite: after a cache
			// hit the retry node has no attempt and the run stays Running
			// for good; without a hit no cache entry is written
			// (argo-workflows issues 10426, 12490).
			c.Errorf(ir.Join(path, "memoize"), "step %s has both memoize and retry, which Argo does not support together: a cache hit leaves the run Running for good, and a retried step writes no cache entry; keep one of them", name)
		}
		if st.Training != "" {
			if t := c.Env.Spec.Training[st.Training]; t == nil || !training.Renders(c.Env, t) {
				// Reported by the compiler or the training renderer.
				c.skip = true
				continue
			}
			checkJobName(c, g, path, name, st)
			checkTrainingStep(c, path, name, st)
		}
		checkGPUs(c, path, st)
	}
	needGPUs(c, g)
	return c.errors == 0 && !c.skip
}

// needGPUs declares what a run of the pipeline may hold at once for the
// environment's summed GPU budget: the sum over its steps (a training
// step's whole job, a container step's GPUs times its items), per GPU
// resource. The sum, not the widest level of the DAG: it needs no
// scheduling model, over-counts only steps that depend on one another,
// and never under-counts.
func needGPUs(c *checker, g *graph) {
	peak := map[string]int{}
	what := map[string][]string{}
	for _, name := range g.stepNames() {
		st := g.steps[name]
		var n int
		var r ir.Resources
		var from string
		switch {
		case st.Training != "":
			t := c.Env.Spec.Training[st.Training]
			if t == nil {
				continue
			}
			var breakdown string
			n, breakdown = training.GPUs(t)
			r, from = t.Resources, fmt.Sprintf("%s %d via training.%s, %s", name, n, st.Training, breakdown)
		case st.Resources != nil && st.Promote == nil:
			r, n = *st.Resources, st.Resources.GPUs
			from = fmt.Sprintf("%s %d", name, n)
			if k := len(st.WithItems); k > 1 {
				n *= k
				from = fmt.Sprintf("%s %d items × %d", name, k, st.Resources.GPUs)
			}
		}
		if n > 0 {
			peak[r.GPUResource()] += n
			what[r.GPUResource()] = append(what[r.GPUResource()], from)
		}
	}
	for _, res := range slices.Sorted(maps.Keys(peak)) {
		c.NeedGPUs(render.GPUDemand{Path: g.path, Resource: res, Peak: peak[res], What: "steps " + strings.Join(what[res], "; ")})
	}
}

// checker counts the problems it reports.
type checker struct {
	*render.Context
	errors int
	// skip is set when a problem reported elsewhere keeps the pipeline
	// from being rendered.
	skip bool
}

func (c *checker) Errorf(path, format string, args ...any) {
	c.errors++
	c.Context.Errorf(path, format, args...)
}

// checkSchedule checks the cron expression and timezone as Argo's
// controller parses them, and that every parameter has a default, since
// nobody is there to supply one to a scheduled run.
func checkSchedule(c *checker, g *graph) {
	s := g.p.Schedule
	if s == nil {
		return
	}
	path := ir.Join(g.path, "schedule")
	cronErr, tzErr := argo.CheckSchedule(s)
	if cronErr != nil {
		c.Errorf(ir.Join(path, "cron"), "invalid cron schedule %q: %v; want five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * 1\"", s.Cron, cronErr)
	}
	if tzErr != nil {
		c.Errorf(ir.Join(path, "timezone"), "unknown timezone %q: want an IANA name such as \"Europe/Berlin\" or \"UTC\"", s.Timezone)
	}
	for _, name := range slices.Sorted(maps.Keys(g.p.Parameters)) {
		if g.p.Parameters[name].Default == nil {
			c.Errorf(ir.Join(g.path, "parameters", name), "parameter %s has no default, but the pipeline runs on a schedule, which cannot supply one: add a default", name)
		}
	}
}

// checkExit keeps the exit handler out of the graph: Argo runs it after
// everything else, so nothing can wait for it and it waits for nothing.
func checkExit(c *checker, g *graph) {
	exit := g.p.OnExit
	if exit == "" || g.steps[exit] == nil {
		return
	}
	if st := g.steps[exit]; len(st.After) > 0 || st.When != "" {
		c.Errorf(ir.Join(g.path, "steps", exit), "step %s is the exit handler (onExit), which runs after every other step whatever the outcome: remove its after and when", exit)
	}
	for _, name := range g.stepNames() {
		if i := slices.Index(g.steps[name].After, exit); i >= 0 {
			c.Errorf(ir.Index(ir.Join(g.path, "steps", name, "after"), i), "step %s waits for %s, the exit handler, which runs only when the pipeline has ended", name, exit)
		}
	}
}

// checkPromote checks that a promote step knows which model to roll out.
func checkPromote(c *checker, g *graph, path, name string, st *ir.Step) {
	pr := st.Promote
	if pr.StorageURI != "" {
		if _, problem := g.resolve(name, pr.StorageURI); problem != "" {
			c.Errorf(ir.Join(path, "promote", "storageUri"), "%s", problem)
		}
		return
	}
	var params, arts int
	if st.Inputs != nil {
		params, arts = len(st.Inputs.Parameters), len(st.Inputs.Artifacts)
	}
	switch {
	case params == 1 && arts == 0, params == 0 && arts == 1 && c.Env.Spec.Artifacts != nil:
		return
	case params == 0 && arts == 1:
		c.Errorf(ir.Join(path, "inputs", "artifacts"), "promote step %s takes its model from artifact %q, but environment %s has no artifact repository to locate it in: set artifacts.s3 or artifacts.gcs", name, st.Inputs.Artifacts[0], c.Env.Name)
	default:
		c.Errorf(ir.Join(path, "promote"), "promote step %s does not say which model to roll out: set promote.storageUri (a URI or step.output), or give the step exactly one input (a parameter such as inputs: parameters: model_uri: \"evaluate.model_uri\", or an artifact); it has %d input parameters and %d input artifacts", name, params, arts)
	}
}

// RunSuffix is the longest suffix Argo gives a run's name: a
// CronWorkflow names its runs <name>-<Unix time> (ten digits), and a run
// submitted from the template gets <name>- and five random characters.
const RunSuffix = "-1234567890"

// checkJobName checks the names the operator derives from the job a
// training step creates, {{workflow.name}}-<job>, for the longest run
// name Argo gives.
func checkJobName(c *checker, g *graph, path, name string, st *ir.Step) {
	t := c.Env.Spec.Training[st.Training]
	if t == nil {
		return
	}
	job := render.ObjectName(g.name) + RunSuffix + "-" + render.ObjectName(name)
	longest := ""
	for _, n := range training.DerivedNamesIn(c.Env.Spec, job, t) {
		if len(n) >= len(longest) {
			longest = n
		}
	}
	if over := len(longest) - training.MaxNameLength; over > 0 {
		c.Errorf(ir.Join(path, "training"), "each run of pipeline %s creates the training job <run name>-%s, and the operator derives pod names such as %q (%d characters) from it; Kubernetes allows %d: shorten the pipeline or step name by %d characters", g.name, render.ObjectName(name), longest, len(longest), training.MaxNameLength, over)
	}
}

// checkTrainingStep rejects what would make a run apply the same job
// twice, and artifacts the job could not be told about.
func checkTrainingStep(c *checker, path, name string, st *ir.Step) {
	if len(st.WithItems) > 0 {
		c.Errorf(ir.Join(path, "withItems"), "a training step cannot fan out: every item would create the same job; use a sweep (sweeps.<name>) to train over several settings")
	}
	if st.Retry != nil {
		c.Errorf(ir.Join(path, "retry"), "a training step cannot be retried: a retry would find the job it already created, failed; kiln already restarts the step's waiter after errors such as an eviction. Let the operator restart failed pods instead (training.%s.runPolicy.backoffLimit)", st.Training)
	}
	if st.Inputs != nil && len(st.Inputs.Artifacts) > 0 && c.Env.Spec.Artifacts == nil {
		c.Errorf(ir.Join(path, "inputs", "artifacts"), "training step %s takes artifact %q, which its job reads from the artifact repository (its URI in %s), but environment %s has none: set artifacts.s3 or artifacts.gcs", name, st.Inputs.Artifacts[0], ArtifactEnv(st.Inputs.Artifacts[0]), c.Env.Name)
	}
}

// checkPinned rejects a fixed artifact key that several pods would
// write: a step that fans out (withItems) runs once per item, and every
// item would overwrite the same object, which a promote or training step
// then reads.
func checkPinned(c *checker, g *graph) {
	pinned := g.pinned()
	for _, name := range g.stepNames() {
		st := g.steps[name]
		if len(pinned[name]) == 0 || len(st.WithItems) == 0 {
			continue
		}
		arts := slices.Sorted(maps.Keys(pinned[name]))
		c.Errorf(ir.Join(g.path, "steps", name, "withItems"), "step %s fans out, but its artifact %q is handed to a promote or training step by its URI, which every item would overwrite: produce it in a step that runs once (one that gathers the items' results)", name, arts[0])
	}
}

// checkGPUs holds a container step to the environment's GPU budget.
func checkGPUs(c *checker, path string, st *ir.Step) {
	if st.Resources == nil || st.Resources.GPUs == 0 || st.Training != "" || st.Promote != nil {
		return
	}
	env, n := c.Env, st.Resources.GPUs
	unit := "GPUs"
	if st.Resources.MIG != "" {
		unit = "MIG " + st.Resources.MIG + " slices"
	} else if n == 1 {
		unit = "GPU"
	}
	gpath := ir.Join(path, "resources", "gpus")
	switch {
	case env.GPU.Quota == 0:
		c.Errorf(gpath, "step asks for %d %s, but %s has no GPU quota: set environments.%s.gpu.quota, or run the step without GPUs there (overrides)", n, unit, env.Name, env.Name)
	case n > env.GPU.MaxPerPod:
		c.Errorf(gpath, "step asks for %d %s per pod; %s allows at most %d per pod", n, unit, env.Name, env.GPU.MaxPerPod)
	case n > env.GPU.Quota:
		c.Errorf(gpath, "step asks for %d %s; %s allows %d", n, unit, env.Name, env.GPU.Quota)
	}
}
