package sweep

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/sweep/sample"
	"github.com/kiln-ml/kiln/render/training"
)

// metricName is what a metric name can be for the collectors to see it:
// both read name=value lines, and Katib's collectors find them with the
// default filter ([\w|-]+)\s*=\s*<number>, so a name is letters, digits,
// '_' and '-'. A name with a '.', '/' or space never matches and the
// trial would look as if it reported nothing.
var metricName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// paramName is what Argo accepts as a parameter name, and so what a
// sweep's parameters can be called in the Argo backend.
var paramName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// reservedParams are item keys the workflow uses itself.
var reservedParams = map[string]bool{"trial": true, "item": true}

// KatibMaxNameLength is the longest Experiment name Katib's webhook
// accepts.
const KatibMaxNameLength = 40

// Check reports what would make a sweep search nothing, search the wrong
// space, or fail on the cluster: empty, inverted or unusable ranges, log
// scales through zero, grids larger than maxTrials, more parallel GPUs
// than the environment has, metric names the collector cannot see, and
// settings the chosen algorithm or backend would ignore. It returns
// whether the sweep can be rendered.
func Check(rc *render.Context, name string, sw *ir.Sweep) bool {
	path := ir.Path("sweeps", name)
	c := &checker{Context: rc}
	checkParameters(c, path, sw)
	checkNAS(c, path, sw)
	checkAlgorithm(c, path, sw)
	checkMetrics(c, path, sw)
	checkBackend(c, path, name, sw)
	checkGPUs(c, path, sw)
	checkLineage(c, path, sw)
	if sw.Pipeline != "" {
		checkPipeline(c, path, sw)
	}
	if c.failed {
		return false
	}
	// The space is sound: see whether it fits.
	checkSize(c, path, sw)
	return !c.failed
}

// checker reports through the render context and remembers whether it
// reported anything.
type checker struct {
	*render.Context
	failed bool
}

func (c *checker) Errorf(path, format string, args ...any) {
	c.failed = true
	c.Context.Errorf(path, format, args...)
}

func checkParameters(c *checker, path string, sw *ir.Sweep) {
	if len(sw.Parameters) == 0 {
		if !IsNAS(sw) { // an architecture search's space is nas
			c.Errorf(ir.Join(path, "parameters"), "the sweep has no parameters to search")
		}
		return
	}
	for _, pn := range paramNames(sw) {
		p := sw.Parameters[pn]
		pp := ir.Join(path, "parameters", pn)
		if !paramName.MatchString(pn) {
			c.Errorf(pp, "parameter name %q can only have letters, digits, '_' and '-': it becomes an --%s arg and a workflow parameter", pn, pn)
			continue
		}
		if reservedParams[pn] && sw.Backend == "argo" {
			c.Errorf(pp, "parameter name %q is reserved by the sweep's workflow; rename the arg", pn)
			continue
		}
		if sw.Hyperband != nil && pn == sw.Hyperband.Resource {
			c.Errorf(pp, "%q is the hyperband resource, which each rung sets: remove it from parameters", pn)
			continue
		}
		checkParameter(c, pp, p, sample.ParamFromIR(pn, p))
	}
}

func checkParameter(c *checker, pp string, p *ir.SweepParameter, sp sample.Param) {
	hasRange := p.Min != nil || p.Max != nil
	switch {
	case hasRange && p.Values != nil:
		c.Errorf(pp, "give either a range (min, max) or values, not both")
		return
	case !hasRange && p.Values == nil:
		c.Errorf(pp, "the parameter has neither a range (min, max) nor values")
		return
	}
	if p.Values != nil {
		if p.Type == sample.Int || p.Type == sample.Double {
			c.Errorf(ir.Join(pp, "type"), "type %q takes a range (min, max), not values; use \"discrete\" or \"categorical\"", p.Type)
			return
		}
		if len(p.Values) == 0 {
			c.Errorf(ir.Join(pp, "values"), "values is empty: the parameter has nothing to choose from")
			return
		}
		if p.Scale == "log" {
			c.Errorf(ir.Join(pp, "scale"), "scale applies to ranges, not to a list of values")
		}
		if p.Step != nil {
			c.Errorf(ir.Join(pp, "step"), "step applies to ranges, not to a list of values")
		}
		seen := map[string]bool{}
		for i, v := range p.Values {
			if _, ok := v.Float(); !ok && sp.Type == sample.Discrete {
				c.Errorf(ir.Index(ir.Join(pp, "values"), i), "discrete values are numbers; %s is not (use type \"categorical\")", v.RawMessage)
			}
			if seen[v.String()] {
				c.Errorf(ir.Index(ir.Join(pp, "values"), i), "value %s is listed twice", v.RawMessage)
			}
			seen[v.String()] = true
		}
		return
	}
	if p.Type == sample.Categorical || p.Type == sample.Discrete {
		c.Errorf(ir.Join(pp, "type"), "type %q takes values, not a range", p.Type)
		return
	}
	if p.Min == nil || p.Max == nil {
		missing := "max"
		if p.Min == nil {
			missing = "min"
		}
		c.Errorf(pp, "the range has no %s", missing)
		return
	}
	lo, hi := *p.Min, *p.Max
	switch {
	case lo > hi:
		c.Errorf(ir.Join(pp, "min"), "the range is inverted: min (%s) is above max (%s); swap them", formatFloat(lo), formatFloat(hi))
		return
	case lo == hi && sp.Type == sample.Double:
		c.Errorf(ir.Join(pp, "max"), "the range is empty: min and max are both %s; widen it, or use values: [%s] to fix the value", formatFloat(lo), formatFloat(lo))
		return
	}
	if sp.Type == sample.Int {
		for _, f := range []struct {
			name string
			v    *float64
		}{{"min", p.Min}, {"max", p.Max}, {"step", p.Step}} {
			if f.v != nil && *f.v != math.Trunc(*f.v) {
				c.Errorf(ir.Join(pp, f.name), "%s is %s but the parameter is an int; use a whole number or type \"double\"", f.name, formatFloat(*f.v))
			}
		}
	}
	if sp.Log {
		if lo <= 0 {
			c.Errorf(ir.Join(pp, "min"), "a log scale needs min > 0, and min is %s (orders of magnitude never reach zero); start at a small positive value such as 1e-6", formatFloat(lo))
		}
		if p.Step != nil && *p.Step <= 1 {
			c.Errorf(ir.Join(pp, "step"), "on a log scale step is the factor between points and must be above 1 (10: one point per decade), not %s", formatFloat(*p.Step))
		}
	}
}

func checkAlgorithm(c *checker, path string, sw *ir.Sweep) {
	alg := ir.Join(path, "algorithm")
	switch sw.Algorithm {
	case "grid":
		for _, pn := range paramNames(sw) {
			p := sw.Parameters[pn]
			sp := sample.ParamFromIR(pn, p)
			if sp.Type == sample.Double && p.Step == nil && p.Min != nil && p.Max != nil {
				c.Errorf(ir.Join(path, "parameters", pn), "a grid over the double range %s needs a step (the distance between points, or on a log scale the factor)", pn)
			}
		}
	case "sobol":
		if n := len(sw.Parameters); n > sample.MaxSobolDimensions {
			c.Errorf(alg, "sobol has direction numbers for %d parameters and the sweep has %d; use random", sample.MaxSobolDimensions, n)
		}
	case "hyperband":
		hb := sw.Hyperband
		if hb == nil {
			c.Errorf(alg, "hyperband needs hyperband: {resource, min, max}: the arg that is the budget (e.g. epochs) and its range")
			break
		}
		if !paramName.MatchString(hb.Resource) || (reservedParams[hb.Resource] && sw.Backend == "argo") {
			c.Errorf(ir.Join(path, "hyperband", "resource"), "hyperband.resource %q must be an arg name of letters, digits, '_' and '-', other than \"trial\" and \"item\"", hb.Resource)
		}
		if hb.Min >= hb.Max {
			c.Errorf(ir.Join(path, "hyperband", "min"), "hyperband.min (%d) must be below hyperband.max (%d)", hb.Min, hb.Max)
		} else if hb.Min*hb.Eta > hb.Max {
			c.Errorf(ir.Join(path, "hyperband", "max"), "hyperband.max (%d) is less than eta (%d) × min (%d): there is only one rung and nothing to halve; widen the range or lower eta", hb.Max, hb.Eta, hb.Min)
		}
	}
	if sw.Hyperband != nil && sw.Algorithm != "hyperband" {
		c.Errorf(ir.Join(path, "hyperband"), "hyperband settings apply only to algorithm \"hyperband\", not %q", sw.Algorithm)
	}
	if sw.Suggestion != nil && (sw.Backend != "argo" || (sw.Algorithm != "bayesian" && sw.Algorithm != "tpe")) {
		c.Errorf(ir.Join(path, "suggestion"), "suggestion runs only for algorithms \"bayesian\" and \"tpe\" with the argo backend; it would be ignored")
	}
}

func checkMetrics(c *checker, path string, sw *ir.Sweep) {
	obj := ir.Join(path, "objective")
	check := func(p, name string) {
		if !metricName.MatchString(name) {
			c.Errorf(p, "the collector cannot see metric %q: it reads name=value lines whose names are letters, digits, '_' and '-'; report the metric under such a name", name)
		}
	}
	check(ir.Join(obj, "metric"), sw.Objective.Metric)
	seen := map[string]bool{sw.Objective.Metric: true}
	for i, m := range sw.Objective.AdditionalMetrics {
		p := ir.Index(ir.Join(obj, "additionalMetrics"), i)
		check(p, m)
		if seen[m] {
			c.Errorf(p, "metric %q is already recorded (as the objective or earlier in the list)", m)
		}
		seen[m] = true
	}
	mp := ir.Join(path, "metrics")
	switch sw.Metrics.Collector {
	case "file":
		if sw.Metrics.Path == "" {
			c.Errorf(ir.Join(mp, "collector"), "the file collector needs metrics.path, the file the trial writes its name=value lines to")
			return
		}
		t := c.Env.Spec.Training[sw.Trial]
		if t != nil && sw.Backend == "argo" && distributed(t) {
			c.Errorf(ir.Join(mp, "collector"), "the file collector cannot see %s: training.%s is distributed, and the file stays inside its chief pod, which the workflow cannot read; use collector \"stdout\" (name=value lines in the chief's log) or backend \"katib\"", sw.Metrics.Path, sw.Trial)
		}
	case "stdout":
		if sw.Metrics.Path != "" {
			c.Errorf(ir.Join(mp, "path"), "metrics.path is read only by the file collector; set collector: \"file\" or remove path")
		}
	}
}

func checkBackend(c *checker, path, name string, sw *ir.Sweep) {
	switch sw.Backend {
	case "argo":
		if t := c.Env.Spec.Training[sw.Trial]; t != nil && distributed(t) {
			// A run's name is the sweep's and a suffix: 6 characters
			// from generateName, 11 from a CronWorkflow's timestamp.
			job := render.ObjectName(name) + "-1234567890-" + strings.Repeat("0", sample.NameLength)
			longest := ""
			for _, n := range training.DerivedNamesIn(c.Env.Spec, job, t) {
				if len(n) >= len(longest) {
					longest = n
				}
			}
			if over := len(longest) - training.MaxNameLength; over > 0 {
				shown := strings.Replace(longest, "-1234567890-"+strings.Repeat("0", sample.NameLength), "-<run>-<trial>", 1)
				c.Errorf(path, "each trial of %s is a %s job named after the run and the trial, and the operator derives pod names of up to %d characters from it (%s); Kubernetes allows %d: shorten the sweep's name by %d", path, t.Framework, len(longest), shown, training.MaxNameLength, over)
			}
		}
		if sch := sw.Schedule; sch != nil {
			cronErr, tzErr := argo.CheckSchedule(sch)
			if cronErr != nil {
				c.Errorf(ir.Join(path, "schedule", "cron"), "invalid cron schedule %q: %v; want five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * 1\"", sch.Cron, cronErr)
			}
			if tzErr != nil {
				c.Errorf(ir.Join(path, "schedule", "timezone"), "unknown timezone %q: want an IANA name such as \"Europe/Berlin\" or \"UTC\"", sch.Timezone)
			}
		}
		if sw.KeepHistory {
			c.Errorf(ir.Join(path, "keepHistory"), "keepHistory keeps renamed Katib Experiments; a sweep with backend \"argo\" keeps its runs for ttl seconds instead")
		}
		if sw.EarlyStopping != nil {
			c.Errorf(ir.Join(path, "earlyStopping"), "median stopping needs the intermediate metrics of running trials, which only Katib collects; use backend \"katib\", or algorithm \"hyperband\", which stops weak trials between rungs")
		}
	case "katib":
		if t := c.Env.Spec.Training[sw.Trial]; t != nil && c.Env.Spec.TrainingAPI(t) == ir.TrainingV2 && !KatibRunsTrainJobs(c.Env.Spec) {
			// Katib runs a kind as a trial only when katib-config lists it
			// (trialResources): a cluster setting kiln cannot see, which
			// some of Katib's installs have and others lack.
			c.Errorf(ir.Join(path, "trial"), "training.%s runs on Kubeflow Trainer v2, and Katib runs a TrainJob as a trial only when katib-config lists TrainJob.v1alpha1.trainer.kubeflow.org in trialResources (Katib v0.19's standalone install does); say that it does with katib: trainJobs: true (or overrides: katib: trainJobs: true in this environment), use backend \"argo\", or set api: \"v1\" on the entry for this environment", sw.Trial)
		}
		if sw.Schedule != nil {
			c.Errorf(ir.Join(path, "schedule"), "a Katib Experiment runs once and cannot be scheduled; use backend \"argo\" for a scheduled sweep")
		}
		if obj := render.ObjectName(name); len(obj)+HashLength > KatibMaxNameLength {
			c.Errorf(path, "Katib accepts Experiment names of at most %d characters, and %q with kiln's %d-character content hash has %d; shorten the sweep's name to at most %d", KatibMaxNameLength, obj, HashLength, len(obj)+HashLength, KatibMaxNameLength-HashLength)
		}
		if sw.Timeout != "" {
			c.Errorf(ir.Join(path, "timeout"), "a Katib Experiment has no deadline of its own; bound each trial with trialTimeout instead")
		}
		if sw.Parallel > sw.MaxTrials {
			c.Errorf(ir.Join(path, "parallel"), "parallel (%d) is above maxTrials (%d), which Katib rejects; lower parallel to at most %d", sw.Parallel, sw.MaxTrials, sw.MaxTrials)
		}
		if f := sw.MaxFailedTrials; f > sw.MaxTrials {
			c.Errorf(ir.Join(path, "maxFailedTrials"), "maxFailedTrials (%d) is above maxTrials (%d), which Katib rejects", f, sw.MaxTrials)
		}
		if hb := sw.Hyperband; hb != nil && sw.Algorithm == "hyperband" && hb.Min < hb.Max {
			// Katib's Hyperband service takes the maximum (r_l) only:
			// its rungs give max/eta^s of the resource, down to
			// max/eta^s_max, and it runs a first rung of eta^s_max
			// trials at once.
			smax := int(math.Log(float64(hb.Max)) / math.Log(float64(hb.Eta)))
			need := int(math.Ceil(math.Pow(float64(hb.Eta), float64(smax))))
			if lowest := int(float64(hb.Max) / math.Pow(float64(hb.Eta), float64(smax))); hb.Min != lowest {
				c.Errorf(ir.Join(path, "hyperband", "min"), "Katib's hyperband derives the smallest budget from max and eta: %d (%d / %d^%d), not hyperband.min (%d); set min to %d, or use backend \"argo\"", lowest, hb.Max, hb.Eta, smax, hb.Min, lowest)
			}
			if sw.Parallel < need {
				c.Errorf(ir.Join(path, "parallel"), "Katib's hyperband runs a first rung of %d trials at once and needs parallel of at least %d, not %d", need, need, sw.Parallel)
			}
		}
	}
}

// checkPipeline holds a sweep over a pipeline to what the pipeline
// offers: each parameter must be one of its parameters (a run takes no
// others), and each metric an output parameter of one of its steps, where
// the sweep reads it.
func checkPipeline(c *checker, path string, sw *ir.Sweep) {
	p := c.Env.Spec.Pipelines[sw.Pipeline]
	if p == nil {
		return
	}
	if sw.Backend == "katib" {
		c.Errorf(ir.Join(path, "pipeline"), "Katib runs trials of a training job, not of a pipeline; use backend \"argo\"")
		return
	}
	if sw.Metrics.Collector == "file" {
		c.Errorf(ir.Join(path, "metrics", "collector"), "a pipeline's trials report metrics as step output parameters, which the sweep reads itself; remove metrics.collector")
	}
	checkSideEffects(c, path, sw, p)
	if p.MaxRuns > 0 && sw.Parallel > p.MaxRuns {
		c.Errorf(ir.Join(path, "parallel"), "parallel is %d but pipelines.%s.maxRuns lets %d run at once: the other trials would wait; lower parallel to %d or raise maxRuns", sw.Parallel, sw.Pipeline, p.MaxRuns, p.MaxRuns)
	}
	have := slices.Sorted(maps.Keys(p.Parameters))
	names := paramNames(sw)
	if hb := sw.Hyperband; hb != nil && sw.Algorithm == "hyperband" {
		names = append(names, hb.Resource)
	}
	for _, n := range names {
		if _, ok := p.Parameters[n]; !ok {
			at := ir.Join(path, "parameters", n)
			if hb := sw.Hyperband; hb != nil && n == hb.Resource {
				at = ir.Join(path, "hyperband", "resource")
			}
			c.Errorf(at, "pipelines.%s has no parameter %q (have %s): declare it there and use it in a step, so each trial can set it", sw.Pipeline, n, quoted(have))
		}
	}
	outputs := PipelineOutputs(p)
	metrics := append([]string{sw.Objective.Metric}, sw.Objective.AdditionalMetrics...)
	for i, m := range metrics {
		if slices.Contains(outputs, m) {
			continue
		}
		at := ir.Join(path, "objective", "metric")
		if i > 0 {
			at = ir.Index(ir.Join(path, "objective", "additionalMetrics"), i-1)
		}
		c.Errorf(at, "the sweep cannot see metric %q: no step of pipelines.%s has it as an output parameter (have %s); add it to a step's outputs.parameters", m, sw.Pipeline, quoted(outputs))
	}
}

// checkSideEffects refuses a sweep over a pipeline that promotes a model
// or has an exit handler: every trial runs the whole pipeline, so each
// would open a promotion (a commit or pull request to the spec) or send
// its notification. A trial only needs the steps up to the metrics; the
// promotion belongs in a pipeline of its own that takes the sweep's best
// parameters. (Gating the steps off with a parameter instead would make
// the pipeline's behaviour depend on who runs it, which a reviewer of the
// pipeline alone cannot see.)
func checkSideEffects(c *checker, path string, sw *ir.Sweep, p *ir.Pipeline) {
	pp := ir.Path("pipelines", sw.Pipeline)
	for _, name := range slices.Sorted(maps.Keys(p.Steps)) {
		st := p.Steps[name]
		if promote := st.Promote; promote != nil {
			c.Errorf(ir.Join(path, "pipeline"), "every trial would run step %s of %s, which promotes serving.%s (%s): a hyperparameter trial would commit or propose a new model; sweep a pipeline without the promote step and promote the best trial from a pipeline of its own", name, pp, promote.Serving, ir.Join(pp, "steps", name, "promote"))
		}
	}
	if p.OnExit != "" {
		c.Errorf(ir.Join(path, "pipeline"), "every trial would run the exit handler %s of %s (%s) as it ends (a notification per trial); sweep a pipeline without onExit", p.OnExit, pp, ir.Join(pp, "onExit"))
	}
}

// PipelineOutputs lists the output parameters of a pipeline's steps,
// sorted.
func PipelineOutputs(p *ir.Pipeline) []string {
	set := map[string]bool{}
	for _, st := range p.Steps {
		if st.Outputs != nil {
			for _, o := range st.Outputs.Parameters {
				set[o] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func quoted(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// checkGPUs holds the trials that run at once to the environment's GPU
// quota: a sweep of 4 parallel trials of an 8-GPU job needs 32 GPUs.
func checkGPUs(c *checker, path string, sw *ir.Sweep) {
	env := c.Env
	if per, what := trialGPUs(env.Spec, sw); per > 0 {
		c.NeedGPUs(render.GPUDemand{Path: path, Resource: trialResource(env.Spec, sw), Peak: per * max(sw.Parallel, 1), What: fmt.Sprintf("%d trials at once × %d, %s", max(sw.Parallel, 1), per, what)})
	}
	if env.GPU.Quota == 0 || sw.Parallel < 2 {
		// A trial alone beyond the quota is reported on its entry.
		return
	}
	per, what := trialGPUs(env.Spec, sw)
	if per == 0 || per > env.GPU.Quota {
		return
	}
	if total := per * sw.Parallel; total > env.GPU.Quota {
		c.Errorf(ir.Join(path, "parallel"), "%s runs %d trials at once, each needing %d GPUs (%s): %d GPUs, and %s allows %d; lower parallel to %d", path, sw.Parallel, per, what, total, env.Name, env.GPU.Quota, env.GPU.Quota/per)
	}
}

// trialResource is the GPU resource a trial's GPUs are counted in: the
// training job's, or the hungriest pipeline step's.
func trialResource(s *ir.Spec, sw *ir.Sweep) string {
	if t := s.Training[sw.Trial]; t != nil {
		return t.Resources.GPUResource()
	}
	res, best := "nvidia.com/gpu", 0
	if p := s.Pipelines[sw.Pipeline]; p != nil {
		for _, name := range slices.Sorted(maps.Keys(p.Steps)) {
			st := p.Steps[name]
			switch {
			case st.Training != "" && s.Training[st.Training] != nil:
				if n, _ := training.GPUs(s.Training[st.Training]); n > best {
					res, best = s.Training[st.Training].Resources.GPUResource(), n
				}
			case st.Resources != nil && st.Resources.GPUs > best:
				res, best = st.Resources.GPUResource(), st.Resources.GPUs
			}
		}
	}
	return res
}

// trialGPUs is how many GPUs one trial holds at its peak, and where they
// come from: the training job's, or for a pipeline its hungriest step's
// (steps may run one after another, so that is the least a run holds at
// some point).
func trialGPUs(s *ir.Spec, sw *ir.Sweep) (int, string) {
	if t := s.Training[sw.Trial]; t != nil {
		n, breakdown := training.GPUs(t)
		return n, fmt.Sprintf("training.%s: %s", sw.Trial, breakdown)
	}
	p := s.Pipelines[sw.Pipeline]
	if p == nil {
		return 0, ""
	}
	best, what := 0, ""
	for _, name := range slices.Sorted(maps.Keys(p.Steps)) {
		st := p.Steps[name]
		res, job := st.Resources, st.Training
		n, from := 0, ""
		switch {
		case job != "" && s.Training[job] != nil:
			var breakdown string
			n, breakdown = training.GPUs(s.Training[job])
			from = fmt.Sprintf("step %s runs training.%s: %s", name, job, breakdown)
		case res != nil:
			n, from = res.GPUs, fmt.Sprintf("step %s", name)
		}
		if n > best {
			best, what = n, fmt.Sprintf("pipelines.%s %s", sw.Pipeline, from)
		}
	}
	return best, what
}

// MaxRounds is the most rounds an Argo sweep runs. Each round is nested
// one level deeper in the workflow (round → next round → …), a trial's
// pod three levels below its round, and Argo's controller refuses to
// nest templates 100 deep; 90 leaves room.
const MaxRounds = 90

// Rounds is the number of rounds an Argo sweep runs at most: one per
// parallel trials (per rung for Hyperband).
func Rounds(sw *ir.Sweep) int {
	trials := sw.MaxTrials
	switch sw.Algorithm {
	case "grid":
		trials = min(trials, sample.GridSize(sample.FromIR(sw.Parameters), MaxTrials))
	case "hyperband":
		n := 0
		if hb := sw.Hyperband; hb != nil {
			for _, b := range sample.Hyperband(hb.Min, hb.Max, hb.Eta) {
				n += len(b.Rungs)
			}
		}
		return n
	}
	return (trials + sw.Parallel - 1) / sw.Parallel
}

// checkSize reports a grid or Hyperband plan with more trials than
// maxTrials, saying how many it would have, and an Argo sweep with more
// rounds than Argo can nest.
func checkSize(c *checker, path string, sw *ir.Sweep) {
	if r := Rounds(sw); sw.Backend == "argo" && r > MaxRounds {
		if sw.Algorithm == "hyperband" {
			c.Errorf(ir.Join(path, "hyperband"), "hyperband from %d to %d with eta %d runs %d rungs one after another, and the workflow nests each in the one before; Argo allows %d: narrow the range or raise eta", sw.Hyperband.Min, sw.Hyperband.Max, sw.Hyperband.Eta, r, MaxRounds)
		} else {
			need := (r*sw.Parallel + MaxRounds - 1) / MaxRounds
			c.Errorf(ir.Join(path, "parallel"), "the sweep runs its trials in %d rounds of %d, and the workflow nests each round in the one before; Argo allows %d: raise parallel to at least %d or lower maxTrials", r, sw.Parallel, MaxRounds, need)
		}
	}
	switch sw.Algorithm {
	case "grid":
		space := sample.FromIR(sw.Parameters)
		limit := min(sw.MaxTrials, MaxTrials)
		if _, err := sample.Grid(space, limit); err != nil {
			var tl *sample.TooLargeError
			if !errors.As(err, &tl) {
				c.Errorf(ir.Join(path, "algorithm"), "%v", err)
				return
			}
			var dims []string
			for _, p := range space {
				dims = append(dims, fmt.Sprintf("%s %d", p.Name, p.Count(1<<40)))
			}
			fix := fmt.Sprintf("raise maxTrials to %.0f or use fewer grid points", tl.Size)
			if tl.Size > MaxTrials {
				fix = fmt.Sprintf("a sweep runs at most %d trials: use fewer grid points, or random or sobol", MaxTrials)
			}
			c.Errorf(ir.Join(path, "algorithm"), "the grid has %.0f trials (%s), more than maxTrials (%d); %s", tl.Size, strings.Join(dims, " × "), sw.MaxTrials, fix)
		}
	case "bayesian", "tpe":
		// A suggester proposes only trials not run yet: a finite space
		// smaller than maxTrials runs out, and the sweep fails there.
		space := sample.FromIR(sw.Parameters)
		if n := sample.GridSize(space, sw.MaxTrials); n > 0 && n < sw.MaxTrials && sw.Backend == "argo" {
			c.Errorf(ir.Join(path, "maxTrials"), "the space has only %d distinct trials, fewer than maxTrials (%d): the suggester would run out of new ones; lower maxTrials to %d, or use algorithm \"grid\" to run them all", n, sw.MaxTrials, n)
		}
	case "hyperband":
		hb := sw.Hyperband
		bs := sample.Hyperband(hb.Min, hb.Max, hb.Eta)
		if n := sample.HyperbandTrials(bs); n > sw.MaxTrials {
			var starts []string
			for _, b := range bs {
				starts = append(starts, fmt.Sprint(b.Configurations()))
			}
			c.Errorf(ir.Join(path, "maxTrials"), "hyperband from %d to %d with eta %d starts %d trials (brackets of %s), more than maxTrials (%d); raise maxTrials to %d, narrow the range or raise eta", hb.Min, hb.Max, hb.Eta, n, strings.Join(starts, ", "), sw.MaxTrials, n)
		}
	}
}

// distributed reports whether a training job runs more than one pod, so
// that its metrics are not the output of one container.
func distributed(t *ir.Training) bool {
	return t != nil && training.Replicas(training.Topology(t)) > 1
}
