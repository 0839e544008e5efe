package promote

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// selectEnvironments returns the environments to promote in and whether
// that leaves out some environment that has the serving entry: then
// values shared with it must not be edited.
func selectEnvironments(sys *ir.System, req Request) (map[string]bool, bool, error) {
	sel := map[string]bool{}
	if len(req.Environments) == 0 {
		for _, env := range sys.Environments {
			sel[env.Name] = env.Spec.Serving[req.Serving] != nil
		}
		return sel, false, nil
	}
	names := sys.EnvironmentNames()
	var unknown, without, with []string
	for _, n := range req.Environments {
		i := slices.Index(names, n)
		switch {
		case i < 0:
			unknown = append(unknown, n)
		case sys.Environments[i].Spec.Serving[req.Serving] == nil:
			without = append(without, n)
		default:
			sel[n] = true
		}
	}
	if len(unknown) > 0 {
		return nil, false, requestErrorf("the spec has no environment %s (it has %s)", list(slices.Compact(slices.Sorted(slices.Values(unknown)))), list(names))
	}
	scoped := false
	for _, env := range sys.Environments {
		if env.Spec.Serving[req.Serving] != nil {
			with = append(with, env.Name)
			scoped = scoped || !sel[env.Name]
		}
	}
	if len(without) > 0 {
		return nil, false, requestErrorf("serving entry %q is not in environment %s (it is in %s)", req.Serving, list(slices.Compact(slices.Sorted(slices.Values(without)))), list(with))
	}
	return sel, scoped, nil
}

// servingJSON is what environment env of sys serves as entry name, for
// comparing before and after: "null" when it has none.
func servingJSON(sys *ir.System, env, name string) []byte {
	for _, e := range sys.Environments {
		if e.Name == env {
			b, err := json.Marshal(e.Spec.Serving[name])
			if err != nil {
				return []byte(err.Error())
			}
			return b
		}
	}
	return []byte("no such environment")
}

// scope promotes in some environments only. A value is edited where it
// is written only when that place is the environment's own override and
// no environment left out reads it; anything else (a value of the base
// entry) gets an override in the selected environment, so the base and
// every other environment stay as they are.
type scope struct {
	*editor
	sys      *ir.System
	req      Request
	selected map[string]bool
	// adds are the overrides to add, by environment.
	adds map[string]*node
}

// node is a field to add: a leaf value, or a struct of fields in the
// order they were asked for.
type node struct {
	label string
	value ast.Expr
	kids  []*node
}

func (n *node) child(label string) *node {
	for _, k := range n.kids {
		if k.label == label {
			return k
		}
	}
	k := &node{label: label}
	n.kids = append(n.kids, k)
	return k
}

// field builds the AST of n, written the short way (a: b: c: 1) where a
// struct has one field, as people write overrides.
func (n *node) field() *ast.Field {
	f := &ast.Field{Label: ast.NewIdent(n.label)}
	if !ast.IsValidIdent(n.label) {
		f.Label = ast.NewString(n.label)
	}
	// A label with a position lets cue/format collapse a one-field
	// struct without braces into a: b: c.
	ast.SetPos(f.Label, token.Blank.Pos())
	switch {
	case n.value != nil:
		f.Value = n.value
	case len(n.kids) == 1:
		f.Value = &ast.StructLit{Elts: []ast.Decl{n.kids[0].field()}}
	default:
		st := ast.NewStruct()
		for _, k := range n.kids {
			kf := k.field()
			ast.SetRelPos(kf, token.Newline)
			st.Elts = append(st.Elts, kf)
		}
		f.Value = st
	}
	return f
}

// own reports whether env's value at path is written in env's own
// overrides and read by no environment left out, so editing it in place
// changes env alone.
func (s *scope) own(env *ir.Environment, path string) bool {
	pos, ok := env.Sources[path]
	if !ok || !pos.IsValid() || s.sys.Sources[ir.Path("environments", env.Name, "overrides")+"."+path] != pos {
		return false
	}
	for _, other := range s.sys.Environments {
		if s.selected[other.Name] {
			continue
		}
		// Every environment's Sources also hold the positions of
		// the environments' own fields; those are not values it reads.
		for p, at := range other.Sources {
			if at == pos && p != "environments" && !strings.HasPrefix(p, "environments.") {
				return false
			}
		}
	}
	return true
}

// add asks for an override of rel (labels under serving.<name>) in env.
func (s *scope) add(env string, v ast.Expr, rel ...string) {
	if s.adds == nil {
		s.adds = map[string]*node{}
	}
	n := s.adds[env]
	if n == nil {
		n = &node{}
		s.adds[env] = n
	}
	for _, l := range rel {
		n = n.child(l)
	}
	n.value = v
}

// set makes env's value at rel (under serving.<name>) v, in place when
// env owns it, else through an override; same says it already is v.
func (s *scope) set(env *ir.Environment, same bool, v any, rel ...string) {
	path := ir.Join(ir.Path("serving", s.req.Serving), rel...)
	if s.own(env, path) {
		switch v := v.(type) {
		case string:
			s.setString(env.Sources, path, v)
		case int:
			s.setInt(env.Sources, path, v)
		}
		return
	}
	if same {
		return
	}
	s.add(env.Name, lit(v), rel...)
}

func lit(v any) ast.Expr {
	switch v := v.(type) {
	case string:
		return ast.NewString(v)
	case int:
		return ast.NewLit(token.INT, strconv.Itoa(v))
	}
	return ast.NewNull()
}

// promote makes the request's change in env alone.
func (s *scope) promote(env *ir.Environment, sv *ir.Serving) {
	req := s.req
	base := ir.Path("serving", req.Serving)
	canary := ir.Join(base, "canary")
	ownCanary := ir.Path("environments", env.Name, "overrides") + "." + canary
	baseHasCanary := s.sys.Sources[canary].IsValid()
	if req.Canary == nil {
		s.set(env, sv.Model.StorageURI == req.ModelURI, req.ModelURI, "model", "storageUri")
		s.setLineage(env, sv.Model.Lineage, "model")
		switch {
		case sv.Canary == nil:
		case !baseHasCanary && s.own(env, canary):
			// The canary is env's own override: it goes.
			s.remove(env.Sources, canary)
		case s.sys.Sources[ownCanary].IsValid():
			// env overrides part of the base's canary: the override
			// becomes canary: null, which deletes it.
			s.replaceValue(s.sys.Sources[ownCanary], ownCanary, ast.NewNull())
		default:
			s.add(env.Name, ast.NewNull(), "canary")
		}
		return
	}
	n := *req.Canary
	if sv.Canary != nil {
		s.set(env, sv.Canary.StorageURI == req.ModelURI, req.ModelURI, "canary", "storageUri")
		s.setLineage(env, sv.Canary.Lineage, "canary")
		s.set(env, sv.Canary.Percent == n, n, "canary", "percent")
		if sv.Canary.StablePercent != nil {
			s.set(env, *sv.Canary.StablePercent == 100-n, 100-n, "canary", "stablePercent")
		}
		return
	}
	// No canary in env. The override merges into a base canary that
	// env deleted with null, so a stablePercent stated there is set too.
	fields := []any{ast.NewIdent("storageUri"), ast.NewString(req.ModelURI)}
	if req.Lineage != "" {
		fields = append(fields, ast.NewIdent("lineage"), ast.NewString(req.Lineage))
	}
	fields = append(fields, ast.NewIdent("percent"), lit(n))
	if s.sys.Sources[ir.Join(canary, "stablePercent")].IsValid() {
		fields = append(fields, ast.NewIdent("stablePercent"), lit(100-n))
	}
	v := ast.NewStruct(fields...)
	if pos := s.sys.Sources[ownCanary]; pos.IsValid() {
		s.replaceValue(pos, ownCanary, v)
		return
	}
	s.add(env.Name, v, "canary")
}

// setLineage makes env's lineage of the model struct rel (model or
// canary) the request's: in place, through an override, or, when the
// request names none and the replaced model had one, an override of null
// (which deletes it).
func (s *scope) setLineage(env *ir.Environment, old, rel string) {
	uri := s.req.Lineage
	if old == uri {
		return
	}
	if uri == "" {
		if path := ir.Path("serving", s.req.Serving, rel, "lineage"); s.own(env, path) {
			s.removeLeaf(env.Sources, path, old)
		} else {
			s.add(env.Name, ast.NewNull(), rel, "lineage")
		}
		return
	}
	s.set(env, false, uri, rel, "lineage")
}

// replaceValue sets the value of the field whose label is at pos.
func (s *scope) replaceValue(pos diag.Pos, path string, v ast.Expr) {
	f := s.files[pos.File]
	if f == nil {
		s.fail(pos, path, "%s is defined in %s, outside the spec's own files; edit it by hand", path, pos.File)
		return
	}
	if !s.once("replace", pos) {
		return
	}
	chain := fieldAt(f, pos)
	if chain == nil {
		s.fail(pos, path, "no field found at %s to change; edit the spec by hand", pos)
		return
	}
	last := chain[len(chain)-1]
	fd := (*last.decls)[last.index].(*ast.Field)
	old := exprString(fd.Value)
	fd.Value = v
	s.structural[pos.File] = true
	s.record(pos, fmt.Sprintf("%s: %s -> %s", path, old, exprString(v)))
}

// addOverrides writes the overrides asked for, each environment's into
// the deepest struct of environments.<env>.overrides.serving.<name> the
// spec already writes, creating the rest.
func (s *scope) addOverrides() {
	for _, env := range slices.Sorted(maps.Keys(s.adds)) {
		root := &node{label: "overrides", kids: []*node{{label: "serving", kids: []*node{{label: s.req.Serving, kids: s.adds[env].kids}}}}}
		envPath := ir.Path("environments", env)
		pos := s.sys.Sources[envPath]
		_, st := s.structAt(pos)
		if st == nil {
			s.fail(pos, envPath, "environment %s is not written as a struct literal in the spec's files, so promote cannot add an override to it; add %s by hand", env, exprString(root.field()))
			return
		}
		s.place(pos, st, envPath, root)
	}
}

// structAt returns the struct literal that is the value of the field
// whose label is at pos, if it is one.
func (s *scope) structAt(pos diag.Pos) (*file, *ast.StructLit) {
	f := s.files[pos.File]
	if !pos.IsValid() || f == nil {
		return nil, nil
	}
	chain := findField(f.ast, pos)
	if chain == nil {
		return nil, nil
	}
	last := chain[len(chain)-1]
	st, _ := (*last.decls)[last.index].(*ast.Field).Value.(*ast.StructLit)
	return f, st
}

// place adds n to st, the struct at path (its label at pos): into the
// struct n names if the spec writes one there, else as a new field.
func (s *scope) place(pos diag.Pos, st *ast.StructLit, path string, n *node) {
	p := ir.Join(path, n.label)
	if n.value == nil {
		if cpos := s.sys.Sources[p]; cpos.IsValid() {
			if _, cst := s.structAt(cpos); cst != nil {
				for _, k := range n.kids {
					s.place(cpos, cst, p, k)
				}
				return
			}
		}
	}
	fd := n.field()
	if !st.Lbrace.IsValid() {
		// a: b: c written short; a second field needs the braces.
		st.Lbrace = token.Blank.Pos()
	}
	// One field per line: a field added on a line of its own after
	// {a: 1, b: 2 would leave the brace's line half a struct.
	for _, d := range st.Elts {
		ast.SetRelPos(d, token.Newline)
	}
	ast.SetRelPos(fd, token.Newline)
	st.Elts = append(st.Elts, fd)
	// The struct now spans lines: its closing brace gets its own.
	st.Rbrace = token.Newline.Pos()
	s.structural[pos.File] = true
	s.record(pos, fmt.Sprintf("%s: added %s", path, exprString(fd)))
}

// fieldAt finds the field at pos, which is its label's position for a
// struct and its value's for anything else (null included).
func fieldAt(f *file, pos diag.Pos) []frame {
	return findFieldFunc(f.ast, func(d *ast.Field) bool { return samePos(d.Label.Pos(), pos) || samePos(d.Value.Pos(), pos) })
}

// dropNullCanary removes env's own canary: null override, left by an
// earlier promotion limited to env, when every environment is promoted
// alike: the base's canary (or its absence) then holds for env too.
func (e *editor) dropNullCanary(sys *ir.System, env *ir.Environment, serving string) {
	path := ir.Path("environments", env.Name, "overrides", "serving", serving, "canary")
	pos := sys.Sources[path]
	f := e.files[pos.File]
	if !pos.IsValid() || f == nil || !e.once("remove", pos) {
		return
	}
	chain := fieldAt(f, pos)
	if chain == nil {
		return
	}
	last := chain[len(chain)-1]
	if _, ok := (*last.decls)[last.index].(*ast.Field).Value.(*ast.BasicLit); !ok {
		return
	}
	e.structural[pos.File] = true
	e.record(pos, fmt.Sprintf("%s: removed (was null)", path))
	deleteChain(chain)
}

// summary says what environment env of sys serves as entry name, for
// messages.
func summary(sys *ir.System, env, name string) string {
	for _, e := range sys.Environments {
		sv := e.Spec.Serving[name]
		if e.Name != env {
			continue
		}
		if sv == nil {
			return "no serving entry " + name
		}
		s := "model " + sv.Model.StorageURI
		if c := sv.Canary; c != nil {
			s += fmt.Sprintf(" with the canary %s at %d%%", c.StorageURI, c.Percent)
		}
		return s
	}
	return "nothing"
}
