package explain

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// Explanation is where the value at a path comes from, per environment.
type Explanation struct {
	Path  string `json:"path"`
	Lines []Line `json:"lines"`
}

// Line is the value at a path in one environment (or in all, for paths
// under environments).
type Line struct {
	// Environment is empty for a path that does not depend on it.
	Environment string `json:"environment,omitempty"`
	// Value is JSON; empty when the path has no value there.
	Value json.RawMessage `json:"value,omitempty"`
	// Pos is where the value was set; invalid for a schema default.
	Pos diag.Pos `json:"pos,omitzero"`
	// From says how: "base", "override <path>", "default", "removed by
	// <path>", "not in this environment", …
	From string `json:"from"`
}

// Path looks path up in every compiled environment of sys. The error
// says why there is no value when no environment has one.
func Path(sys *ir.System, path string) (*Explanation, error) {
	labels, err := SplitPath(path)
	if err != nil {
		return nil, err
	}
	ex := &Explanation{Path: path}
	found := false
	var missing []string
	envs := sys.Environments
	if labels[0] == "environments" {
		envs = envs[:1]
	}
	for _, env := range envs {
		doc, err := document(sys, env)
		if err != nil {
			return nil, err
		}
		line := Line{Environment: env.Name}
		if labels[0] == "environments" {
			line.Environment = ""
		}
		v, parent, ok := lookup(doc, labels)
		src := env.Sources
		if labels[0] == "environments" {
			src = sys.Sources
		}
		over := ir.Path("environments", env.Name, "overrides") + "." + path
		switch {
		case ok:
			found = true
			line.Value, _ = json.Marshal(v)
			pos, exact := src[path]
			switch {
			case exact && labels[0] != "environments" && sys.Sources[over] == pos:
				line.Pos, line.From = pos, "override "+over
			case exact:
				line.Pos, line.From = pos, "base"
				if from, p, ok := imageOverride(sys, env, path, v); ok {
					line.Pos, line.From = p, from
				} else if labels[0] != "environments" {
					if kids := overriddenBelow(sys, env, path); len(kids) > 0 {
						line.From = fmt.Sprintf("base; %s from environments.%s.overrides", strings.Join(kids, ", "), ir.Label(env.Name))
					}
				}
			default:
				line.From = "default (the schema's; not written in the spec)"
				if pos, from, ok := fromComponent(env, labels); ok {
					line.Pos, line.From = pos, from
				} else if hasWrittenChild(src, path) {
					line.Pos, line.From = src.Pos(path), "written below this path"
				}
			}
		case parent != nil:
			line.From = "not set"
			if pos, ok := sys.Sources[over]; ok && labels[0] != "environments" {
				line.Pos, line.From = pos, "removed by "+over
			} else if keys := slices.Sorted(maps.Keys(parent)); len(keys) > 0 {
				line.From += fmt.Sprintf(" (%s has %s)", ir.Parent(path), strings.Join(keys, ", "))
			}
			missing = append(missing, env.Name)
		default:
			line.From = "not in this environment"
			missing = append(missing, env.Name)
		}
		ex.Lines = append(ex.Lines, line)
	}
	if !found {
		if len(ex.Lines) == 1 {
			return nil, fmt.Errorf("no value: %s", ex.Lines[0].From)
		}
		why := ex.Lines[0].From
		if strings.HasPrefix(why, "not in") {
			why = "no such entry"
		}
		return nil, fmt.Errorf("no value in any environment (%s): %s", strings.Join(missing, ", "), why)
	}
	return ex, nil
}

// document is an environment's whole resolved spec as JSON values, with
// the system's metadata and every environment's own settings, so any path
// a diagnostic prints can be looked up.
func document(sys *ir.System, env *ir.Environment) (map[string]any, error) {
	doc := map[string]any{}
	for _, part := range []any{sys, env.Spec} {
		if err := merge(doc, part); err != nil {
			return nil, err
		}
	}
	// A built image is in the long form, as the spec wrote it: its ref
	// and its build (the IR keeps them apart).
	if images, ok := doc["images"].(map[string]any); ok {
		for name, b := range env.Spec.Builds {
			long := map[string]any{}
			if err := merge(long, ir.BuiltImage{Ref: b.Ref, Build: b}); err != nil {
				return nil, err
			}
			images[name] = long
		}
	}
	envs := map[string]any{}
	for _, e := range sys.Environments {
		m := map[string]any{}
		if err := merge(m, e); err != nil {
			return nil, err
		}
		envs[e.Name] = m
	}
	doc["environments"] = envs
	return doc, nil
}

func merge(dst map[string]any, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	maps.Copy(dst, m)
	return nil
}

// lookup returns the value at labels, or the map that should have held
// the last label.
func lookup(doc map[string]any, labels []string) (v any, parent map[string]any, ok bool) {
	var cur any = doc
	for i, l := range labels {
		switch c := cur.(type) {
		case map[string]any:
			next, has := c[l]
			if !has {
				if i == len(labels)-1 {
					return nil, c, false
				}
				return nil, nil, false
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 || n >= len(c) {
				return nil, nil, false
			}
			cur = c[n]
		default:
			return nil, nil, false
		}
	}
	return cur, nil, true
}

// imageOverride recognises an image field that took an environment's
// override of images.<name> by value (the compiler substitutes them).
func imageOverride(sys *ir.System, env *ir.Environment, path string, v any) (string, diag.Pos, bool) {
	s, ok := v.(string)
	if !ok || !strings.HasSuffix(path, ".image") {
		return "", diag.Pos{}, false
	}
	for _, name := range slices.Sorted(maps.Keys(env.Spec.Images)) {
		over := ir.Path("environments", env.Name, "overrides", "images", name)
		if pos, ok := sys.Sources[over]; ok && env.Spec.Images[name] == s {
			return "override " + over + " (by value)", pos, true
		}
	}
	return "", diag.Pos{}, false
}

// fromComponent recognises a pipeline step's field that the step does
// not write but inherits from its component (the compiler merges
// components into steps), and says where the component sets it.
func fromComponent(env *ir.Environment, labels []string) (diag.Pos, string, bool) {
	if len(labels) < 5 || labels[0] != "pipelines" || labels[2] != "steps" {
		return diag.Pos{}, "", false
	}
	p := env.Spec.Pipelines[labels[1]]
	if p == nil || p.Steps[labels[3]] == nil || p.Steps[labels[3]].Component == "" {
		return diag.Pos{}, "", false
	}
	path := ir.Join(ir.Path("components", p.Steps[labels[3]].Component), labels[4:]...)
	if pos, ok := env.Sources[path]; ok {
		return pos, "component: " + path, true
	}
	return diag.Pos{}, "", false
}

// overriddenBelow lists the paths under path (relative to it) whose value
// in env is an override's.
func overriddenBelow(sys *ir.System, env *ir.Environment, path string) []string {
	prefix := ir.Path("environments", env.Name, "overrides") + "." + path + "."
	var kids []string
	for p, pos := range sys.Sources {
		if rel, ok := strings.CutPrefix(p, prefix); ok && env.Sources[path+"."+rel] == pos {
			kids = append(kids, rel)
		}
	}
	slices.Sort(kids)
	return kids
}

func hasWrittenChild(src ir.Sources, path string) bool {
	for p := range src {
		if strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

// SplitPath splits a CUE path into labels, unquoting quoted ones; an
// error for a path that is not one.
func SplitPath(path string) ([]string, error) {
	if path == "" {
		return nil, fmt.Errorf("empty path")
	}
	var labels []string
	for p := path; p != ""; p = ir.Parent(p) {
		parent := ir.Parent(p)
		l := p
		if parent != "" {
			l = p[len(parent)+1:]
		}
		if strings.HasPrefix(l, `"`) {
			u, err := strconv.Unquote(l)
			if err != nil {
				return nil, fmt.Errorf("bad label %s in path %s", l, path)
			}
			l = u
		}
		if l == "" {
			return nil, fmt.Errorf("empty label in path %s", path)
		}
		labels = append(labels, l)
	}
	slices.Reverse(labels)
	return labels, nil
}

// WriteText prints one line per environment: name, value, position,
// origin. Values longer than a line follow, indented.
func (ex *Explanation) WriteText(w io.Writer) error {
	fmt.Fprintln(w, ex.Path)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var long []string
	for _, l := range ex.Lines {
		val := "-"
		if len(l.Value) > 0 {
			val = string(l.Value)
		}
		if len(val) > 40 {
			var b bytes.Buffer
			_ = json.Indent(&b, l.Value, "    ", "  ")
			long = append(long, fmt.Sprintf("  %s:\n    %s", cmp.Or(l.Environment, "value"), b.String()))
			val = "(below)"
		}
		pos := "-"
		if l.Pos.IsValid() {
			pos = l.Pos.String()
		}
		if l.Environment != "" {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", l.Environment, val, pos, l.From)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", val, pos, l.From)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range long {
		fmt.Fprintln(w, l)
	}
	return nil
}
