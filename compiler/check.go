package compiler

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"cuelang.org/go/cue"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// The checks here are the ones CUE cannot express, or can express only with
// messages nobody understands: names, references between sections, cycles.
// They run per environment, because overrides can break a reference; a
// problem in the base spec is reported once, since identical diagnostics
// are merged.

// nameRE is what kiln accepts as an entry name: a DNS-1123 label, except
// that '_' is allowed too, because CUE field names with '-' need quotes.
// Object names use the normalised form with '_' replaced by '-'.
var nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9_]*[a-z0-9])?$`)

// maxNameLen leaves room for the suffixes operators append to the names of
// the pods and services they create (e.g. "-worker-12").
const maxNameLen = 50

// Normalize returns the object name kiln derives from an entry name.
func Normalize(name string) string { return strings.ReplaceAll(name, "_", "-") }

type checker struct {
	env   *ir.Environment
	diags *diag.List
	// user is the spec as the user wrote it (not unified with the
	// schema), where field attributes such as @kiln(notsecret) are read.
	user cue.Value
}

func (k checker) errorf(path, format string, args ...any) {
	k.diags.Errorf(k.env.Sources.Pos(path), path, format, args...)
}

// check runs the semantic checks on every environment of sys.
func (c *compilation) check(sys *ir.System) {
	c.checkSystemBounds(sys)
	pol, _ := c.loadPolicy()
	var policyDiags diag.List
	for _, env := range sys.Environments {
		k := checker{env: env, diags: &c.diags, user: c.user}
		k.checkEnvironmentLists(c.envNames)
		restrictToEnvironment(env)
		k.checkNames()
		k.checkBounds(sys)
		k.checkValues()
		k.checkCredentials()
		k.checkBuilds()
		k.resolveKilnImage()
		k.checkReferences(sys)
		for _, name := range slices.Sorted(maps.Keys(env.Spec.Pipelines)) {
			k.checkCycles(ir.Path("pipelines", name), env.Spec.Pipelines[name])
		}
		if pol != nil {
			// Before lowering: a component's values are checked where
			// the component declares them.
			policyDiags = append(policyDiags, c.checkPolicy(pol, sys, env)...)
		}
		lowerComponents(env)
	}
	c.diags.Add(policyDiags.MergeEnvs(sys.EnvironmentNames())...)
}

// checkNames checks entry names and their collisions after normalisation,
// both within a section and between sections rendered to the same kind.
func (k checker) checkNames() {
	s := k.env.Spec
	seen := map[string]string{} // name space/normalised name -> path of first use
	for e := range ir.Entries(s) {
		key := e.Name
		if !nameRE.MatchString(key) || len(key) > maxNameLen {
			k.errorf(e.Path, "invalid name %q: use at most %d lowercase letters, digits, '-' or '_', starting with a letter and ending with a letter or digit", key, maxNameLen)
			continue
		}
		id := nameSpace(e.Section) + "/" + Normalize(key)
		if first, ok := seen[id]; ok {
			k.errorf(e.Path, "name %q collides with %s: both become %q", key, first, Normalize(key))
			continue
		}
		seen[id] = e.Path
	}
	for _, p := range slices.Sorted(maps.Keys(s.Pipelines)) {
		steps := map[string]string{}
		for _, st := range slices.Sorted(maps.Keys(s.Pipelines[p].Steps)) {
			path := ir.Path("pipelines", p, "steps", st)
			if !nameRE.MatchString(st) || len(st) > maxNameLen {
				k.errorf(path, "invalid step name %q: use lowercase letters, digits, '-' or '_', starting with a letter", st)
				continue
			}
			if first, ok := steps[Normalize(st)]; ok {
				k.errorf(path, "step name %q collides with %s: both become %q", st, first, Normalize(st))
				continue
			}
			steps[Normalize(st)] = path
		}
	}
}

// nameSpace groups sections whose entries become objects of one kind and
// so share a namespace of names: pipelines and sweeps both become
// WorkflowTemplates.
func nameSpace(section string) string {
	if section == ir.SectionSweeps {
		return ir.SectionPipelines
	}
	return section
}

// checkReferences reports every reference by name that has no target.
func (k checker) checkReferences(sys *ir.System) {
	s := k.env.Spec
	ref := func(path, what, name string, ok bool, have []string) {
		if !ok {
			k.errorf(path, "no %s named %q (have %s)", what, name, quoteList(have))
		}
	}
	// The names a message lists, sorted once: sorting them for every
	// reference made the check quadratic in the size of the spec.
	datasets := slices.Sorted(maps.Keys(s.Datasets))
	trainings := slices.Sorted(maps.Keys(s.Training))
	pipelines := slices.Sorted(maps.Keys(s.Pipelines))
	components := slices.Sorted(maps.Keys(s.Components))
	servings := slices.Sorted(maps.Keys(s.Serving))
	checkDatasets := func(path string, names []string) {
		for i, n := range names {
			_, ok := s.Datasets[n]
			ref(ir.Index(path, i), "dataset", n, ok, datasets)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Training)) {
		checkDatasets(ir.Path("training", name, "datasets"), s.Training[name].Datasets)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Notebooks)) {
		checkDatasets(ir.Path("notebooks", name, "datasets"), s.Notebooks[name].Datasets)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Sweeps)) {
		sw := s.Sweeps[name]
		switch {
		case sw.Trial != "" && sw.Pipeline != "":
			k.errorf(ir.Path("sweeps", name, "pipeline"), "a sweep runs trials of a training job or of a pipeline: set trial or pipeline, not both")
		case sw.Pipeline != "":
			_, ok := s.Pipelines[sw.Pipeline]
			ref(ir.Path("sweeps", name, "pipeline"), "pipeline", sw.Pipeline, ok, pipelines)
		case sw.Trial == "":
			k.errorf(ir.Path("sweeps", name), "a sweep needs trial (the training job each trial runs) or pipeline (the pipeline each trial runs)")
		default:
			_, ok := s.Training[sw.Trial]
			ref(ir.Path("sweeps", name, "trial"), "training job", sw.Trial, ok, trainings)
		}
	}
	checkStep := func(path string, st *ir.Step, steps map[string]*ir.Step) {
		if st.Component != "" {
			_, ok := s.Components[st.Component]
			ref(ir.Join(path, "component"), "component", st.Component, ok, components)
		}
		if st.Training != "" {
			_, ok := s.Training[st.Training]
			ref(ir.Join(path, "training"), "training job", st.Training, ok, trainings)
		}
		if st.Promote != nil {
			_, ok := s.Serving[st.Promote.Serving]
			ref(ir.Join(path, "promote", "serving"), "serving entry", st.Promote.Serving, ok, servings)
		}
		checkDatasets(ir.Join(path, "datasets"), st.Datasets)
		if steps == nil {
			return
		}
		for i, a := range st.After {
			_, ok := steps[a]
			ref(ir.Index(ir.Join(path, "after"), i), "step", a, ok, slices.Sorted(maps.Keys(steps)))
		}
		kinds := 0
		for _, set := range []bool{st.Image != "", st.Training != "", st.Promote != nil, st.Component != ""} {
			if set {
				kinds++
			}
		}
		if kinds == 0 {
			k.errorf(path, "step does nothing: set one of image, training, component or promote")
		} else if kinds > 1 && !(st.Component != "" && kinds == 2 && st.Image != "") {
			k.errorf(path, "step sets more than one of image, training, component and promote")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Components)) {
		checkStep(ir.Path("components", name), s.Components[name], nil)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Pipelines)) {
		p := s.Pipelines[name]
		for _, st := range slices.Sorted(maps.Keys(p.Steps)) {
			checkStep(ir.Path("pipelines", name, "steps", st), p.Steps[st], p.Steps)
		}
		if p.OnExit != "" {
			_, ok := p.Steps[p.OnExit]
			ref(ir.Path("pipelines", name, "onExit"), "step", p.OnExit, ok, slices.Sorted(maps.Keys(p.Steps)))
		}
	}
}

// checkEnvironmentLists checks the environments entries are limited to,
// before entries are dropped from environments they do not apply to.
func (k checker) checkEnvironmentLists(all []string) {
	for e := range ir.Entries(k.env.Spec) {
		for i, name := range e.Environments {
			if !slices.Contains(all, name) {
				k.errorf(ir.Index(ir.Join(e.Path, "environments"), i), "no environment named %q (have %s)", name, quoteList(all))
			}
		}
	}
}

// checkCycles reports a dependency cycle among a pipeline's steps, naming
// the steps on it in order.
func (k checker) checkCycles(path string, p *ir.Pipeline) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(string) bool
	visit = func(n string) bool {
		state[n] = visiting
		stack = append(stack, n)
		st := p.Steps[n]
		for _, dep := range st.After {
			if _, ok := p.Steps[dep]; !ok {
				continue
			}
			switch state[dep] {
			case visiting:
				i := slices.Index(stack, dep)
				cycle := append(slices.Clone(stack[i:]), dep)
				k.errorf(ir.Join(path, "steps", dep, "after"), "dependency cycle: %s", strings.Join(cycle, " → "))
				return true
			case unvisited:
				if visit(dep) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return false
	}
	for _, n := range slices.Sorted(maps.Keys(p.Steps)) {
		if state[n] == unvisited && visit(n) {
			return
		}
	}
}

// checkOverrides reports overrides of entries the base spec does not have:
// a merge patch would silently create a half-specified entry.
func (c *compilation) checkOverrides(base map[string]any) {
	envs, _ := base["environments"].(map[string]any)
	for _, env := range slices.Sorted(maps.Keys(envs)) {
		over, _ := envs[env].(map[string]any)["overrides"].(map[string]any)
		for _, sec := range slices.Sorted(maps.Keys(over)) {
			entries, _ := over[sec].(map[string]any)
			have, _ := base[sec].(map[string]any)
			if sec == "artifacts" || sec == "workflows" || sec == "trainer" {
				continue
			}
			for _, name := range slices.Sorted(maps.Keys(entries)) {
				if _, ok := have[name]; ok {
					continue
				}
				path := ir.Path("environments", env, "overrides", sec, name)
				c.diags.Errorf(c.src.Pos(path), path, "overrides %s.%s, which the base spec does not define (have %s)", sec, ir.Label(name), quoteList(slices.Sorted(maps.Keys(have))))
			}
		}
	}
}

// restrictToEnvironment drops entries whose environments list excludes env.
func restrictToEnvironment(env *ir.Environment) {
	for e := range ir.Entries(env.Spec) {
		if len(e.Environments) > 0 && !slices.Contains(e.Environments, env.Name) {
			e.Remove()
		}
	}
}
