package diff

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Markdown is the comment kiln posts on a pull request (kiln diff --github,
// kiln publish --github): a Mermaid picture of what changed, which GitHub
// draws, then the summary. The picture has one box per environment, titled
// with its GPU requests when they change, holding one node per affected
// spec entry, coloured by what happened to its objects: green when they
// were all added, red when all removed, amber otherwise. The unified diff is
// left out: the pull request shows it.
func (r *Report) Markdown(title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", title)
	if r.Changed() && len(r.Objects) > 0 {
		b.WriteString("```mermaid\n")
		r.writeMermaid(&b)
		b.WriteString("```\n\n")
	}
	b.WriteString("```\n")
	r.WriteSummary(&b)
	b.WriteString("```\n")
	return b.String()
}

// entryChange is what happened to the objects of one entry.
type entryChange struct {
	name string
	ops  map[Op]int
}

func (e *entryChange) op() Op {
	switch {
	case e.ops[Added] > 0 && e.ops[Changed]+e.ops[Removed] == 0:
		return Added
	case e.ops[Removed] > 0 && e.ops[Added]+e.ops[Changed] == 0:
		return Removed
	}
	return Changed
}

func (r *Report) writeMermaid(b *strings.Builder) {
	byEnv := map[string]map[string]*entryChange{}
	for _, o := range r.Objects {
		name := entryOf(o.Entry)
		if name == "" {
			// No entry to group by: the object stands for itself.
			name = o.Kind + " " + o.Name
		}
		env := byEnv[o.Env]
		if env == nil {
			env = map[string]*entryChange{}
			byEnv[o.Env] = env
		}
		e := env[name]
		if e == nil {
			e = &entryChange{name: name, ops: map[Op]int{}}
			env[name] = e
		}
		e.ops[o.Op]++
	}
	b.WriteString("flowchart LR\n")
	classes := map[Op][]string{}
	n := 0
	for ei, envName := range slices.Sorted(maps.Keys(byEnv)) {
		fmt.Fprintf(b, "  subgraph env%d[\"%s\"]\n", ei, mermaidText(envName+r.gpuDelta(envName)))
		for _, name := range slices.Sorted(maps.Keys(byEnv[envName])) {
			e := byEnv[envName][name]
			var counts []string
			for _, op := range []Op{Added, Changed, Removed} {
				if c := e.ops[op]; c > 0 {
					counts = append(counts, fmt.Sprintf("%d %s", c, op))
				}
			}
			id := fmt.Sprintf("n%d", n)
			n++
			fmt.Fprintf(b, "    %s[\"%s<br/><small>%s</small>\"]\n", id, mermaidText(name), strings.Join(counts, " · "))
			classes[e.op()] = append(classes[e.op()], id)
		}
		b.WriteString("  end\n")
	}
	for _, op := range []Op{Added, Changed, Removed} {
		if len(classes[op]) == 0 {
			continue
		}
		fmt.Fprintf(b, "  classDef %s %s\n  class %s %s\n", op, opStyle[op], strings.Join(classes[op], ","), op)
	}
}

var opStyle = map[Op]string{
	Added:   "fill:#dafbe1,stroke:#1a7f37,color:#1f2328",
	Changed: "fill:#fff8c5,stroke:#9a6700,color:#1f2328",
	Removed: "fill:#ffebe9,stroke:#cf222e,color:#1f2328",
}

// gpuDelta describes an environment's GPU requests when they change:
// " · nvidia.com/gpu 64 → 66 (+2)".
func (r *Report) gpuDelta(env string) string {
	var parts []string
	for _, res := range slices.Sorted(maps.Keys(r.GPUs[env])) {
		if c := r.GPUs[env][res]; c.Before != c.After {
			parts = append(parts, fmt.Sprintf("%s %d → %d (%+d)", res, c.Before, c.After, c.After-c.Before))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " · " + strings.Join(parts, ", ")
}

// entryOf shortens an object's CUE path to the entry it belongs to, its
// first two elements: pipelines.retrain.schedule is pipelines.retrain.
// Quoted elements (sweeps."resnet-tune") keep their quotes.
func entryOf(path string) string {
	quoted, dots := false, 0
	for i, c := range path {
		switch c {
		case '"':
			quoted = !quoted
		case '.':
			if !quoted {
				dots++
				if dots == 2 {
					return path[:i]
				}
			}
		}
	}
	return path
}

// mermaidText escapes s for a quoted Mermaid label with entity codes,
// which Mermaid decodes.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
}
