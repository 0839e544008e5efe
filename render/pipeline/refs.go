package pipeline

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// refRE is a reference: step.output or parameters.name.
var refRE = regexp.MustCompile(`^([a-z][-a-z0-9_]*)\.([A-Za-z_][-A-Za-z0-9_]*)$`)

// ParametersRef is the prefix of a reference to a pipeline parameter.
const ParametersRef = "parameters"

// graph is a pipeline with its steps resolved (components merged) and
// what each step can see.
type graph struct {
	name  string
	path  string
	p     *ir.Pipeline
	steps map[string]*ir.Step
	// ancestors[s] are the steps that finish before s starts.
	ancestors map[string]map[string]bool
	// lineage is set while rendering for an environment in which the
	// runs write a lineage record.
	lineage bool
	// builds are the images the pipeline builds in that environment,
	// and the steps that run them.
	builds builds
}

// newGraph computes ancestors. The compiler has already reported dangling
// `after` entries and cycles; here they are skipped.
func newGraph(name string, p *ir.Pipeline) *graph {
	g := &graph{name: name, path: ir.Path("pipelines", name), p: p, steps: p.Steps, ancestors: map[string]map[string]bool{}}
	var visit func(n string, seen map[string]bool) map[string]bool
	visit = func(n string, seen map[string]bool) map[string]bool {
		if a, ok := g.ancestors[n]; ok {
			return a
		}
		if seen[n] {
			return map[string]bool{} // a cycle, reported by the compiler
		}
		seen[n] = true
		a := map[string]bool{}
		for _, dep := range g.steps[n].After {
			if _, ok := g.steps[dep]; !ok {
				continue
			}
			a[dep] = true
			maps.Copy(a, visit(dep, seen))
		}
		g.ancestors[n] = a
		return a
	}
	for _, n := range slices.Sorted(maps.Keys(g.steps)) {
		visit(n, map[string]bool{})
	}
	return g
}

// outputs lists a step's output parameters.
func (g *graph) outputs(step string) []string {
	if st := g.steps[step]; st != nil && st.Outputs != nil {
		return st.Outputs.Parameters
	}
	return nil
}

// stepNames lists the steps in name order.
func (g *graph) stepNames() []string { return slices.Sorted(maps.Keys(g.steps)) }

// value is an operand of a condition or an input value, resolved.
type value struct {
	// expr is what Argo sees: a {{...}} expression or the literal.
	expr string
	// ref is true for references (task outputs, workflow parameters).
	ref bool
}

// resolve turns an input value or operand into Argo's form, or explains
// what it refers to that does not exist. user is the step using it.
func (g *graph) resolve(user, s string) (value, string) {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return value{expr: s[1 : len(s)-1]}, ""
	}
	m := refRE.FindStringSubmatch(s)
	if m == nil {
		return value{expr: s}, ""
	}
	owner, name := m[1], m[2]
	if owner == ParametersRef {
		if _, ok := g.p.Parameters[name]; !ok {
			return value{}, "no pipeline parameter named " + quote(name) + " (have " + quoteList(slices.Sorted(maps.Keys(g.p.Parameters))) + ")"
		}
		return value{expr: "{{workflow.parameters." + name + "}}", ref: true}, ""
	}
	if _, ok := g.steps[owner]; !ok {
		return value{}, "no step named " + quote(owner) + " (have " + quoteList(g.stepNames()) + "); to pass the text itself, quote it: '" + s + "'"
	}
	if owner == user {
		return value{}, "a step cannot use its own output " + quote(s)
	}
	if !slices.Contains(g.outputs(owner), name) {
		return value{}, "step " + quote(owner) + " has no output parameter " + quote(name) + " (have " + quoteList(g.outputs(owner)) + ")"
	}
	if !g.ancestors[user][owner] {
		return value{}, "step " + quote(owner) + " does not run before " + quote(user) + ": add it to " + user + ".after to use " + s
	}
	return value{expr: "{{tasks." + render.ObjectName(owner) + ".outputs.parameters." + name + "}}", ref: true}, ""
}

// producer finds the step that produces artifact a for step user.
func (g *graph) producer(user, a string) (string, string) {
	var all, before []string
	for _, n := range g.stepNames() {
		if st := g.steps[n]; n != user && st.Outputs != nil && slices.Contains(st.Outputs.Artifacts, a) {
			all = append(all, n)
			if g.ancestors[user][n] {
				before = append(before, n)
			}
		}
	}
	switch {
	case len(before) == 1:
		return before[0], ""
	case len(before) > 1:
		return "", "artifact " + quote(a) + " is produced by several steps that run before " + quote(user) + " (" + quoteList(before) + "); rename one of the artifacts"
	case len(all) > 0:
		verb := "does"
		if len(all) > 1 {
			verb = "do"
		}
		return "", "artifact " + quote(a) + " is produced by " + quoteList(all) + ", which " + verb + " not run before " + quote(user) + ": add one to " + user + ".after"
	}
	return "", "no step produces an artifact named " + quote(a) + " (steps produce " + quoteList(g.allArtifacts()) + ")"
}

func (g *graph) allArtifacts() []string {
	set := map[string]bool{}
	for _, st := range g.steps {
		if st.Outputs != nil {
			for _, a := range st.Outputs.Artifacts {
				set[a] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func quoteList(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}

// uses lists the steps whose outputs or artifacts step name consumes (in
// its condition, inputs or promoted model), as far as they resolve.
func (g *graph) uses(name string, st *ir.Step) map[string]bool {
	used := map[string]bool{}
	ref := func(v string) {
		if m := refRE.FindStringSubmatch(v); m != nil && m[1] != ParametersRef && g.steps[m[1]] != nil && m[1] != name {
			used[m[1]] = true
		}
	}
	if st.Inputs != nil {
		for _, v := range st.Inputs.Parameters {
			ref(v)
		}
		for _, a := range st.Inputs.Artifacts {
			if prod, problem := g.producer(name, a); problem == "" {
				used[prod] = true
			}
		}
	}
	if st.Promote != nil {
		ref(st.Promote.StorageURI)
	}
	for i, tok := range splitLogical(st.When) {
		if m := compRE.FindStringSubmatch(tok); i%2 == 0 && m != nil {
			ref(m[1])
			ref(m[3])
		}
	}
	return used
}

// depends is a task's depends expression. A dependency whose outputs
// the step consumes must have succeeded (dep.Succeeded): when it was
// skipped or failed, the step is omitted rather than run on missing
// values. Other dependencies only need to have finished the way Argo's
// plain "dep" means (succeeded, skipped or daemoned). Steps the step
// consumes from without listing them in after are added the same way.
func (g *graph) depends(name string, st *ir.Step) string {
	used := g.uses(name, st)
	terms := map[string]string{}
	for _, a := range st.After {
		if _, ok := g.steps[a]; ok && a != g.p.OnExit {
			terms[a] = render.ObjectName(a)
		}
	}
	for u := range used {
		if g.ancestors[name][u] {
			terms[u] = render.ObjectName(u) + ".Succeeded"
		}
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(terms)) {
		out = append(out, terms[k])
	}
	return strings.Join(out, " && ")
}
