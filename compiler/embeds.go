package compiler

import (
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/schema"
)

// embedsSystem reports whether the spec's package embeds schema.#System at
// its top level — schema.#System & {…}, as the README and kiln init write
// a spec — in which case the evaluated spec is already an instance of
// #System: unifying it with #System again changes nothing but costs a
// second evaluation of every entry against the schema (nearly half of
// compile time on a large spec). It looks at the syntax only and says
// false when unsure; a spec that does not embed #System this way is
// unified with it as before.
func embedsSystem(files []*ast.File) bool {
	for _, f := range files {
		names := map[string]bool{}
		for imp := range f.ImportSpecs() {
			if importPath(imp) != schema.ImportPath {
				continue
			}
			if imp.Name != nil {
				names[imp.Name.Name] = true
			} else {
				names["schema"] = true
			}
		}
		if len(names) == 0 {
			continue
		}
		for _, d := range f.Decls {
			if e, ok := d.(*ast.EmbedDecl); ok && conjunctIsSystem(e.Expr, names) {
				return true
			}
		}
	}
	return false
}

// conjunctIsSystem reports whether x is <schema>.#System or a conjunction
// (&) with it among its operands.
func conjunctIsSystem(x ast.Expr, names map[string]bool) bool {
	switch x := x.(type) {
	case *ast.ParenExpr:
		return conjunctIsSystem(x.X, names)
	case *ast.BinaryExpr:
		return x.Op == token.AND && (conjunctIsSystem(x.X, names) || conjunctIsSystem(x.Y, names))
	case *ast.SelectorExpr:
		id, ok := x.X.(*ast.Ident)
		sel, ok2 := x.Sel.(*ast.Ident)
		if !ok || !ok2 || sel.Name != "#System" || !names[id.Name] {
			return false
		}
		// The parser resolves the identifier to what it names; it must
		// be the import, not a field that shadows it.
		imp, ok := id.Node.(*ast.ImportSpec)
		return ok && importPath(imp) == schema.ImportPath
	}
	return false
}

func importPath(imp *ast.ImportSpec) string {
	p, _ := strconv.Unquote(imp.Path.Value)
	return p
}
