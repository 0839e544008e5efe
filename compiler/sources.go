package compiler

import (
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/ir"
)

// collectSources records where the user wrote each value, keyed by CUE
// path, by walking the spec's syntax. Struct-valued fields point at their
// label (where a missing field would go); scalars and list elements point at
// the value (where CUE points for a bad value). Values spread over several
// files keep the first position in file order.
//
// The syntax walk sees struct literals, the operands of & (the usual
// `schema.#System & {…}`), lists and nested field shorthand (a: b: c: 1). It
// does not evaluate comprehensions or references; values made that way fall
// back to their nearest enclosing position.
func (p positioner) collectSources(files []*ast.File) ir.Sources {
	src := ir.Sources{}
	// The root's position is the first file's package clause: where a
	// missing top-level field such as namespace would be added.
	for _, f := range files {
		for _, d := range f.Decls {
			if pkg, ok := d.(*ast.Package); ok {
				p.recordRoot(src, pkg.Pos())
			}
		}
		p.recordRoot(src, f.Pos())
	}
	for _, f := range files {
		for _, d := range f.Decls {
			p.walkDecl(src, "", d)
		}
	}
	return src
}

func (p positioner) record(src ir.Sources, path string, pos token.Pos) {
	if path == "" || !pos.IsValid() {
		return
	}
	if _, ok := src[path]; !ok {
		src[path] = p.pos(pos)
	}
}

func (p positioner) recordRoot(src ir.Sources, pos token.Pos) {
	if _, ok := src[""]; !ok && pos.IsValid() {
		src[""] = p.pos(pos)
	}
}

func (p positioner) walkDecl(src ir.Sources, path string, d ast.Decl) {
	switch d := d.(type) {
	case *ast.Field:
		name, ok := labelName(d.Label)
		if !ok {
			return
		}
		child := ir.Join(path, name)
		switch d.Value.(type) {
		case *ast.StructLit, *ast.BinaryExpr:
			p.record(src, child, d.Label.Pos())
		default:
			p.record(src, child, d.Value.Pos())
		}
		p.walkExpr(src, child, d.Value)
	case *ast.EmbedDecl:
		p.walkExpr(src, path, d.Expr)
	}
}

func (p positioner) walkExpr(src ir.Sources, path string, e ast.Expr) {
	switch e := e.(type) {
	case *ast.StructLit:
		for _, d := range e.Elts {
			p.walkDecl(src, path, d)
		}
	case *ast.BinaryExpr:
		if e.Op == token.AND {
			p.walkExpr(src, path, e.X)
			p.walkExpr(src, path, e.Y)
		}
	case *ast.ParenExpr:
		p.walkExpr(src, path, e.X)
	case *ast.ListLit:
		for i, el := range e.Elts {
			child := ir.Index(path, i)
			p.record(src, child, el.Pos())
			p.walkExpr(src, child, el)
		}
	}
}

// labelName returns the field name of a label that is a plain identifier
// or a string; other labels (patterns, dynamic fields) have no fixed path.
func labelName(l ast.Label) (string, bool) {
	switch l := l.(type) {
	case *ast.Ident:
		return l.Name, true
	case *ast.BasicLit:
		if l.Kind == token.STRING {
			s, err := strconv.Unquote(l.Value)
			return s, err == nil
		}
	}
	return "", false
}
