package promote

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// Request is a promotion.
type Request struct {
	// System is the spec's system name; empty accepts any.
	System string
	// Serving is the name of the serving entry.
	Serving string
	// ModelURI is the new model's storage URI.
	ModelURI string
	// Canary, when not nil, is the share of traffic the new model gets as
	// the canary.
	Canary *int
	// Lineage is the URI of the lineage record of the run that produced
	// the model, written beside its storageUri (model.lineage or
	// canary.lineage). Empty removes a lineage the replaced model had:
	// it would name the wrong run.
	Lineage string
	// Environments limits the promotion to these environments; empty
	// means every environment that has the serving entry. Values shared
	// with an environment left out are not edited: the selected ones get
	// overrides instead, so the others serve what they served before.
	Environments []string
	// Verify, when set, runs the checks beyond compiling (kiln's
	// renderers) on the edited spec; a promotion whose result would not
	// pass `kiln vet` writes nothing. The CLI passes the renderers, so
	// this package does not depend on them.
	Verify func(context.Context, *ir.System) diag.List
}

// Edit is one change made to the source.
type Edit struct {
	Pos diag.Pos
	// What says what was changed, e.g. `canary.percent: 10 -> 20`.
	What string
}

// Result is what a promotion changed.
type Result struct {
	// Edits are sorted by position.
	Edits []Edit
	// Files maps the changed files, relative to the spec directory, to
	// their new content. Empty when the spec already said the same.
	Files map[string][]byte
}

// SpecError is a spec that does not compile, before or after the edit.
type SpecError struct {
	When  string
	Diags diag.List
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("the spec %s has errors:\n%s", e.When, e.Diags.Error())
}

// RequestError is a promotion the spec cannot take as asked: a system or
// serving entry it does not have, a percent out of range.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

func requestErrorf(format string, args ...any) error {
	return &RequestError{Msg: fmt.Sprintf(format, args...)}
}

// Plan computes the edits to the spec in dir without writing anything.
func Plan(ctx context.Context, dir string, req Request) (*Result, error) {
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	sys, diags := compiler.Compile(ctx, abs, compiler.Options{Cwd: abs})
	if diags.HasErrors() {
		return nil, &SpecError{When: "to promote in", Diags: diags}
	}
	if req.System != "" && sys.Name != req.System {
		return nil, requestErrorf("the spec in %s is system %q, not %q", dir, sys.Name, req.System)
	}
	files, err := parseDir(abs)
	if err != nil {
		return nil, err
	}
	e := &editor{files: files, done: map[string]bool{}, structural: map[string]bool{}}
	base := ir.Join("serving", req.Serving)
	found := false
	for _, env := range sys.Environments {
		found = found || env.Spec.Serving[req.Serving] != nil
	}
	if !found {
		var names []string
		for _, env := range sys.Environments {
			names = append(names, slices.Collect(maps.Keys(env.Spec.Serving))...)
		}
		slices.Sort(names)
		return nil, requestErrorf("the spec has no serving entry %q (it has %s)", req.Serving, list(slices.Compact(names)))
	}
	selected, scoped, err := selectEnvironments(sys, req)
	if err != nil {
		return nil, err
	}
	sc := &scope{editor: e, sys: sys, req: req, selected: selected}
	for _, env := range sys.Environments {
		sv := env.Spec.Serving[req.Serving]
		if sv == nil || !selected[env.Name] {
			continue
		}
		if scoped {
			sc.promote(env, sv)
			continue
		}
		src := env.Sources
		if sv.Canary == nil {
			e.dropNullCanary(sys, env, req.Serving)
		}
		if req.Canary == nil {
			e.setString(src, ir.Join(base, "model", "storageUri"), req.ModelURI)
			e.setLineage(src, ir.Join(base, "model"), sv.Model.Lineage, req.Lineage)
			if sv.Canary != nil {
				e.remove(src, ir.Join(base, "canary"))
			}
			continue
		}
		if sv.Canary != nil {
			e.setString(src, ir.Join(base, "canary", "storageUri"), req.ModelURI)
			e.setLineage(src, ir.Join(base, "canary"), sv.Canary.Lineage, req.Lineage)
			e.setInt(src, ir.Join(base, "canary", "percent"), *req.Canary)
			if sv.Canary.StablePercent != nil {
				// The two must add up to 100; keep the stated one
				// stated.
				e.setInt(src, ir.Join(base, "canary", "stablePercent"), 100-*req.Canary)
			}
			continue
		}
		e.addCanary(src, base, req.ModelURI, req.Lineage, *req.Canary)
	}
	sc.addOverrides()
	if e.err != nil {
		return nil, e.err
	}
	res := &Result{Files: map[string][]byte{}}
	overlay := map[string][]byte{}
	for name, f := range files {
		if !e.changed[name] {
			continue
		}
		b, err := f.print(e.structural[name])
		if err != nil {
			return nil, fmt.Errorf("formatting %s: %w", name, err)
		}
		if !bytes.Equal(b, f.src) {
			res.Files[name] = b
			overlay[name] = b
		}
	}
	res.Edits = e.edits
	slices.SortFunc(res.Edits, func(a, b Edit) int { return a.Pos.Compare(b.Pos) })
	if len(res.Files) == 0 {
		return res, nil
	}
	// Prove it: the edited spec compiles and says what was asked.
	after, diags := compiler.Compile(ctx, abs, compiler.Options{Cwd: abs, Overlay: overlay})
	if !diags.HasErrors() && req.Verify != nil {
		diags = append(diags, req.Verify(ctx, after)...)
	}
	if diags.HasErrors() {
		return nil, &SpecError{When: "after the edit (nothing was written)", Diags: diags}
	}
	for _, env := range after.Environments {
		sv := env.Spec.Serving[req.Serving]
		if !selected[env.Name] {
			if b, a := servingJSON(sys, env.Name, req.Serving), servingJSON(after, env.Name, req.Serving); !bytes.Equal(b, a) {
				return nil, fmt.Errorf("after the edit, environment %s, which was not selected, would serve %s instead of %s: a value edited is shared with it (through a reference?), so promote cannot change it for the selected environments alone; nothing was written", env.Name, summary(after, env.Name, req.Serving), summary(sys, env.Name, req.Serving))
			}
			continue
		}
		if sv == nil {
			continue
		}
		switch {
		case req.Canary == nil && (sv.Model.StorageURI != req.ModelURI || sv.Canary != nil):
			return nil, fmt.Errorf("after the edit, environment %s still serves %s (canary: %v); the value is set somewhere promote cannot edit; nothing was written", env.Name, sv.Model.StorageURI, sv.Canary != nil)
		case req.Canary != nil && (sv.Canary == nil || sv.Canary.StorageURI != req.ModelURI || sv.Canary.Percent != *req.Canary):
			return nil, fmt.Errorf("after the edit, environment %s does not have the canary %s at %d%%; nothing was written", env.Name, req.ModelURI, *req.Canary)
		case req.Canary == nil && sv.Model.Lineage != req.Lineage, req.Canary != nil && sv.Canary.Lineage != req.Lineage:
			return nil, fmt.Errorf("after the edit, environment %s does not name the lineage record %q for its new model; nothing was written", env.Name, req.Lineage)
		}
	}
	return res, nil
}

// Apply plans the promotion and writes the changed files.
func Apply(ctx context.Context, dir string, req Request) (*Result, error) {
	res, err := Plan(ctx, dir, req)
	if err != nil {
		return nil, err
	}
	if err := Write(dir, res); err != nil {
		return nil, err
	}
	return res, nil
}

// Write writes a planned promotion's changed files into the spec in dir,
// all or none as far as it can: each file is first written to a temporary
// file beside it, and only once all of them are does any replace its
// target, so a failure while writing leaves the spec as it was.
func Write(dir string, res *Result) error {
	names := slices.Sorted(maps.Keys(res.Files))
	staged := map[string]string{}
	defer func() {
		for _, tmp := range staged {
			os.Remove(tmp)
		}
	}()
	for _, name := range names {
		tmp, err := stage(filepath.Join(dir, filepath.FromSlash(name)), res.Files[name])
		if err != nil {
			return err
		}
		staged[name] = tmp
	}
	for _, name := range names {
		if err := os.Rename(staged[name], filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			return err
		}
		delete(staged, name)
	}
	return nil
}

func checkRequest(req Request) error {
	if req.Serving == "" {
		return requestErrorf("no serving entry named")
	}
	if req.ModelURI == "" {
		return requestErrorf("no model URI given")
	}
	if req.Canary != nil && (*req.Canary < 0 || *req.Canary > 100) {
		return requestErrorf("canary percent %d is out of range: a canary takes 0 to 100 percent of traffic (promote without --canary to replace the model)", *req.Canary)
	}
	return nil
}

// stage writes b to a temporary file beside name, with name's mode (0644
// for a new file), and returns the temporary file's name.
func stage(name string, b []byte) (_ string, err error) {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".kiln-tmp-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return tmp.Name(), nil
}

type file struct {
	src []byte
	ast *ast.File
	// splices are the literal replacements made, by byte offset.
	splices []splice
}

type splice struct {
	off, n int
	text   string
}

// print returns the edited file. Literal replacements alone are spliced
// into the original bytes, so the diff a reviewer sees is the changed
// literal and nothing else, even in a file cue fmt would realign; a file
// whose structure changed is printed with cue/format.
func (f *file) print(structural bool) ([]byte, error) {
	if structural {
		return format.Node(f.ast)
	}
	sp := slices.Clone(f.splices)
	slices.SortFunc(sp, func(a, b splice) int { return b.off - a.off })
	out := bytes.Clone(f.src)
	for _, s := range sp {
		if s.off < 0 || s.off+s.n > len(out) {
			return nil, fmt.Errorf("literal at offset %d is outside the file", s.off)
		}
		out = slices.Concat(out[:s.off], []byte(s.text), out[s.off+s.n:])
	}
	return out, nil
}

// replace sets lit's value, recording the splice.
func (f *file) replace(lit *ast.BasicLit, v string) {
	f.splices = append(f.splices, splice{off: lit.Pos().Offset(), n: len(lit.Value), text: v})
	lit.Value = v
}

// parseDir parses the package's .cue files, named relative to dir as the
// compiler names them when its Cwd is dir.
func parseDir(dir string) (map[string]*file, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]*file{}
	for _, ent := range entries {
		if ent.IsDir() || !strings.HasSuffix(ent.Name(), ".cue") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(ent.Name(), b, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		out[ent.Name()] = &file{src: b, ast: f}
	}
	return out, nil
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// editor applies edits to the parsed files, each position once.
type editor struct {
	files   map[string]*file
	done    map[string]bool
	changed map[string]bool
	// structural marks files with fields added or removed.
	structural map[string]bool
	edits      []Edit
	err        error
}

func (e *editor) fail(pos diag.Pos, path, format string, args ...any) {
	if e.err == nil {
		e.err = diag.List{diag.Errorf(pos, path, format, args...)}
	}
}

// once reports whether the edit op at pos has not been made yet.
func (e *editor) once(op string, pos diag.Pos) bool {
	k := op + "@" + pos.String()
	if e.done[k] {
		return false
	}
	e.done[k] = true
	return true
}

func (e *editor) record(pos diag.Pos, what string) {
	if e.changed == nil {
		e.changed = map[string]bool{}
	}
	e.changed[pos.File] = true
	e.edits = append(e.edits, Edit{Pos: pos, What: what})
}

// at returns the position the compiler recorded for exactly path.
func (e *editor) at(src ir.Sources, path string) (diag.Pos, *file, bool) {
	pos, ok := src[path]
	if !ok || !pos.IsValid() {
		e.fail(src.Pos(path), path, "the compiler recorded no position for %s, so promote cannot tell where to edit it; edit the spec by hand", path)
		return pos, nil, false
	}
	f := e.files[pos.File]
	if f == nil {
		e.fail(pos, path, "%s is defined in %s, outside the spec's own files; edit it by hand", path, pos.File)
		return pos, nil, false
	}
	return pos, f, true
}

func (e *editor) setString(src ir.Sources, path, v string) {
	pos, f, ok := e.at(src, path)
	if !ok || !e.once("set", pos) {
		return
	}
	lit, lpos := e.literal(f, pos, path, token.STRING)
	if lit == nil {
		return
	}
	old, _ := literal.Unquote(lit.Value)
	if old == v {
		return
	}
	f.replace(lit, literal.String.Quote(v))
	e.record(lpos, fmt.Sprintf("%s: %q -> %q", path, old, v))
}

func (e *editor) setInt(src ir.Sources, path string, v int) {
	pos, f, ok := e.at(src, path)
	if !ok || !e.once("set", pos) {
		return
	}
	lit, lpos := e.literal(f, pos, path, token.INT)
	if lit == nil {
		return
	}
	if lit.Value == strconv.Itoa(v) {
		return
	}
	old := lit.Value
	f.replace(lit, strconv.Itoa(v))
	e.record(lpos, fmt.Sprintf("%s: %s -> %d", path, old, v))
}

// literal finds the literal of kind k that defines the value at pos,
// following references within the file.
func (e *editor) literal(f *file, pos diag.Pos, path string, k token.Token) (*ast.BasicLit, diag.Pos) {
	n := findExpr(f.ast, pos)
	if n == nil {
		e.fail(pos, path, "no value found at %s; is the file the compiler read the one on disk?", pos)
		return nil, pos
	}
	for range 10 {
		switch x := n.(type) {
		case *ast.BasicLit:
			if x.Kind != k {
				e.fail(posOf(x, pos.File), path, "the value is %s, not a %s literal", x.Value, strings.ToLower(k.String()))
				return nil, pos
			}
			return x, posOf(x, pos.File)
		case *ast.Ident:
			next := refValue(x.Node)
			if next == nil {
				e.fail(posOf(x, pos.File), path, "the value is the reference %s, which is not defined in %s; change the value where it is defined, or write the literal here", x.Name, pos.File)
				return nil, pos
			}
			n = next
		case *ast.SelectorExpr:
			next := selectField(x)
			if next == nil {
				e.fail(posOf(x, pos.File), path, "the value is the reference %s, which promote cannot follow; change the value where it is defined, or write the literal here", exprString(x))
				return nil, pos
			}
			n = next
		case *ast.ParenExpr:
			n = x.X
		default:
			e.fail(posOf(x, pos.File), path, "the value is the expression %s, not a literal; promote edits only literals (or references to one in the same file): write the literal here or edit it by hand", exprString(x))
			return nil, pos
		}
	}
	e.fail(pos, path, "too many references to follow")
	return nil, pos
}

// refValue is the value an identifier refers to.
func refValue(n ast.Node) ast.Expr {
	switch n := n.(type) {
	case *ast.Field:
		return n.Value
	case *ast.LetClause:
		return n.Expr
	case *ast.Alias:
		return n.Expr
	case ast.Expr:
		return n
	}
	return nil
}

// selectField follows x.sel when x resolves to a struct literal of the
// same file.
func selectField(s *ast.SelectorExpr) ast.Expr {
	var base ast.Expr
	switch x := s.X.(type) {
	case *ast.Ident:
		base = refValue(x.Node)
	case *ast.SelectorExpr:
		base = selectField(x)
	}
	st, ok := base.(*ast.StructLit)
	if !ok {
		return nil
	}
	name, _, err := ast.LabelName(s.Sel)
	if err != nil {
		return nil
	}
	var found ast.Expr
	for _, d := range st.Elts {
		if fd, ok := d.(*ast.Field); ok {
			if n, _, err := ast.LabelName(fd.Label); err == nil && n == name {
				if found != nil {
					return nil // defined twice: unify, not ours to pick
				}
				found = fd.Value
			}
		}
	}
	return found
}

// alignment is the padding cue/format puts after a label to align values.
var alignment = regexp.MustCompile(`^([^":]*):\s+`)

// exprString prints x on one line, for messages: a struct the formatter
// spreads over lines comes out as {a: 1, b: 2}.
func exprString(x ast.Node) string {
	b, err := format.Node(x)
	if err != nil {
		return fmt.Sprintf("%T", x)
	}
	var out strings.Builder
	prev := ""
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		line = alignment.ReplaceAllString(strings.TrimSpace(line), "$1: ")
		if line == "" {
			continue
		}
		if prev != "" && !strings.HasSuffix(prev, "{") && !strings.HasPrefix(line, "}") {
			out.WriteString(", ")
		}
		out.WriteString(line)
		prev = line
	}
	return out.String()
}

func posOf(n ast.Node, file string) diag.Pos {
	p := n.Pos()
	return diag.Pos{File: file, Line: p.Line(), Col: p.Column()}
}

func samePos(p token.Pos, q diag.Pos) bool {
	return p.IsValid() && p.Line() == q.Line && p.Column() == q.Col
}

// findExpr returns the field value that starts at pos.
func findExpr(f *ast.File, pos diag.Pos) ast.Expr {
	var found ast.Expr
	ast.Walk(f, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		if fd, ok := n.(*ast.Field); ok && samePos(fd.Value.Pos(), pos) {
			found = fd.Value
			return false
		}
		return true
	}, nil)
	return found
}

// frame is a list of declarations being searched: a file's or a struct
// literal's, and whether it has braces (a: b: c has none around b: c).
type frame struct {
	decls  *[]ast.Decl
	index  int
	braced bool
	// label is the name of the field at index ("" for embeddings).
	label string
}

// findField returns the chain of declaration lists leading to the field
// whose label is at pos; the last frame holds the field at its index.
func findField(f *ast.File, pos diag.Pos) []frame {
	return findFieldFunc(f, func(d *ast.Field) bool { return samePos(d.Label.Pos(), pos) })
}

// findFieldFunc is findField for the first field match accepts.
func findFieldFunc(f *ast.File, match func(*ast.Field) bool) []frame {
	var walk func(decls *[]ast.Decl, braced bool, stack []frame) []frame
	var walkExpr func(x ast.Expr, stack []frame) []frame
	walk = func(decls *[]ast.Decl, braced bool, stack []frame) []frame {
		for i, d := range *decls {
			fr := frame{decls: decls, index: i, braced: braced}
			switch d := d.(type) {
			case *ast.Field:
				fr.label, _, _ = ast.LabelName(d.Label)
				if match(d) {
					return append(stack, fr)
				}
				if r := walkExpr(d.Value, append(stack, fr)); r != nil {
					return r
				}
			case *ast.EmbedDecl:
				if r := walkExpr(d.Expr, append(stack, fr)); r != nil {
					return r
				}
			}
		}
		return nil
	}
	walkExpr = func(x ast.Expr, stack []frame) []frame {
		switch x := x.(type) {
		case *ast.StructLit:
			return walk(&x.Elts, x.Lbrace.IsValid(), slices.Clip(stack))
		case *ast.BinaryExpr:
			if r := walkExpr(x.X, slices.Clip(stack)); r != nil {
				return r
			}
			return walkExpr(x.Y, slices.Clip(stack))
		case *ast.ParenExpr:
			return walkExpr(x.X, stack)
		}
		return nil
	}
	return walk(&f.Decls, true, nil)
}

// remove deletes the field defining path in an environment: where the
// compiler says the struct is, and every field named like path's last
// element that holds one of its leaves. An override of a struct the base
// also has keeps the base's position for the struct itself and only moves
// its leaves, so both must go. When that empties an override written as a
// shorthand path (prod: overrides: serving: clf: canary: {…}), the fields
// left empty go too, up to and including overrides; an environment itself
// is never removed, it is left as {}.
func (e *editor) remove(src ir.Sources, path string) {
	pos, f, ok := e.at(src, path)
	if !ok {
		return
	}
	name := path[strings.LastIndex(path, ".")+1:]
	type site struct {
		pos   diag.Pos
		chain []frame
	}
	var sites []site
	// Another environment may have removed it already.
	if !e.done["remove@"+pos.String()] {
		chain := findField(f.ast, pos)
		if chain == nil {
			e.fail(pos, path, "no field found at %s to remove; edit the spec by hand", pos)
			return
		}
		sites = append(sites, site{pos, chain})
	}
	for _, leaf := range slices.Sorted(maps.Keys(src)) {
		lpos := src[leaf]
		if !strings.HasPrefix(leaf, path+".") || lpos.File == "" || lpos == pos {
			continue
		}
		lf := e.files[lpos.File]
		if lf == nil {
			continue
		}
		chain := findFieldFunc(lf.ast, func(d *ast.Field) bool { return samePos(d.Value.Pos(), lpos) || samePos(d.Label.Pos(), lpos) })
		// Cut the chain at the innermost field named like path's end.
		for i := len(chain) - 1; i >= 0; i-- {
			if chain[i].label == name {
				fr := chain[i]
				fd := (*fr.decls)[fr.index].(*ast.Field)
				sites = append(sites, site{posOf(fd.Label, lpos.File), chain[:i+1]})
				break
			}
		}
	}
	// Later positions first, so deleting one never shifts the index of
	// another in the same list.
	slices.SortFunc(sites, func(a, b site) int { return b.pos.Compare(a.pos) })
	for _, st := range sites {
		if !e.once("remove", st.pos) {
			continue
		}
		last := st.chain[len(st.chain)-1]
		fd := (*last.decls)[last.index].(*ast.Field)
		e.structural[st.pos.File] = true
		e.record(st.pos, fmt.Sprintf("%s: removed (was %s)", path, exprString(fd.Value)))
		deleteChain(st.chain)
	}
}

// deleteChain deletes the field the chain ends at, then the fields left
// empty, as remove describes.
func deleteChain(chain []frame) {
	for i := len(chain) - 1; i >= 0; i-- {
		fr := chain[i]
		*fr.decls = slices.Delete(*fr.decls, fr.index, fr.index+1)
		if len(*fr.decls) > 0 || fr.braced || i == 0 {
			break
		}
		owner := chain[i-1]
		if !slices.ContainsFunc(chain[:i], func(f frame) bool { return f.label == "overrides" }) {
			// Keep the owner, now empty: {}.
			(*owner.decls)[owner.index].(*ast.Field).Value = ast.NewStruct()
			break
		}
	}
}

// addCanary adds canary: {storageUri, lineage, percent} to the struct
// defining base, after its model field (no lineage when it is "").
func (e *editor) addCanary(src ir.Sources, base, uri, lineage string, percent int) {
	pos, f, ok := e.at(src, base)
	if !ok || !e.once("add", pos) {
		return
	}
	chain := findField(f.ast, pos)
	if chain == nil {
		e.fail(pos, base, "no field found at %s to add the canary to; edit the spec by hand", pos)
		return
	}
	last := chain[len(chain)-1]
	fd := (*last.decls)[last.index].(*ast.Field)
	st, ok := fd.Value.(*ast.StructLit)
	if !ok || !st.Lbrace.IsValid() {
		e.fail(pos, base, "%s is not written as a struct literal {…}; add canary: {storageUri: %q, percent: %d} by hand", base, uri, percent)
		return
	}
	fields := []any{ast.NewIdent("storageUri"), ast.NewString(uri)}
	if lineage != "" {
		fields = append(fields, ast.NewIdent("lineage"), ast.NewString(lineage))
	}
	fields = append(fields, ast.NewIdent("percent"), ast.NewLit(token.INT, strconv.Itoa(percent)))
	canary := &ast.Field{Label: ast.NewIdent("canary"), Value: ast.NewStruct(fields...)}
	ast.SetRelPos(canary, token.Newline)
	at := len(st.Elts)
	for i, d := range st.Elts {
		if m, ok := d.(*ast.Field); ok {
			if n, _, err := ast.LabelName(m.Label); err == nil && n == "model" {
				at = i + 1
			}
		}
	}
	st.Elts = slices.Insert(st.Elts, at, ast.Decl(canary))
	e.structural[pos.File] = true
	e.record(pos, fmt.Sprintf("%s.canary: added %s", base, exprString(canary.Value)))
}

// removeLeaf deletes the field that defines the leaf path, whose value
// was old.
func (e *editor) removeLeaf(src ir.Sources, path, old string) {
	pos, f, ok := e.at(src, path)
	if !ok || !e.once("remove", pos) {
		return
	}
	chain := fieldAt(f, pos)
	if chain == nil {
		e.fail(pos, path, "no field found at %s to remove; edit the spec by hand", pos)
		return
	}
	e.structural[pos.File] = true
	e.record(pos, fmt.Sprintf("%s: removed (was %q)", path, old))
	deleteChain(chain)
}

// setLineage makes the lineage beside the storageUri of the model struct
// at path (model or canary) say uri: edits it where it is written, adds
// it after the storageUri the promotion set, or, for "", removes the old
// one, which named the run of the model replaced.
func (e *editor) setLineage(src ir.Sources, path, old, uri string) {
	lpath := ir.Join(path, "lineage")
	switch {
	case old == uri:
		return
	case old != "" && uri != "":
		e.setString(src, lpath, uri)
		return
	case old != "":
		e.removeLeaf(src, lpath, old)
		return
	}
	spath := ir.Join(path, "storageUri")
	pos, f, ok := e.at(src, spath)
	if !ok || !e.once("add lineage", pos) {
		return
	}
	chain := fieldAt(f, pos)
	if chain == nil {
		e.fail(pos, spath, "no field found at %s to add lineage beside; edit the spec by hand", pos)
		return
	}
	last := chain[len(chain)-1]
	fd := &ast.Field{Label: ast.NewIdent("lineage"), Value: ast.NewString(uri)}
	*last.decls = slices.Insert(*last.decls, last.index+1, ast.Decl(fd))
	if len(chain) > 1 {
		// One field per line from now on (model: {format: …,
		// storageUri: …} would run far past the margin), with braces
		// where model: storageUri: "…" was written short.
		owner := chain[len(chain)-2]
		if st, ok := (*owner.decls)[owner.index].(*ast.Field).Value.(*ast.StructLit); ok {
			if !st.Lbrace.IsValid() {
				st.Lbrace = token.Blank.Pos()
			}
			st.Rbrace = token.Newline.Pos()
			for _, d := range st.Elts {
				ast.SetRelPos(d, token.Newline)
			}
		}
	}
	ast.SetRelPos(fd, token.Newline)
	e.structural[pos.File] = true
	e.record(pos, fmt.Sprintf("%s: added %q", lpath, uri))
}
