package compiler

import (
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/schema"
)

// WriteReference prints the schema reference that `kiln schema` shows:
// every definition with its documentation, then each of its fields with its
// type, constraints and defaults as the schema states them. It is made from
// the embedded schema's syntax, so it can never disagree with it.
func WriteReference(w io.Writer) error {
	defs, err := schemaDefinitions()
	if err != nil {
		return err
	}
	// #System first, the rest in alphabetical order.
	// Stable: a definition declared in two files (#Environment gains its
	// ingress in serving.cue) keeps its parts in file order.
	slices.SortStableFunc(defs, func(a, b definition) int {
		if (a.name == schema.Definition) != (b.name == schema.Definition) {
			if a.name == schema.Definition {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	for _, d := range defs {
		if d.body == nil {
			fmt.Fprintf(w, "%s: %s\n", d.name, nodeString(d.expr))
			writeDoc(w, "    ", d.doc)
			fmt.Fprintln(w)
			continue
		}
		fmt.Fprintf(w, "%s\n", d.name)
		writeDoc(w, "    ", d.doc)
		fmt.Fprintln(w)
		writeFields(w, "", d.body)
		fmt.Fprintln(w)
	}
	return nil
}

// definition is a top-level #Definition of the schema, from its syntax.
type definition struct {
	name string
	doc  string
	// body is the definition's struct, nil for scalar definitions.
	body *ast.StructLit
	expr ast.Expr
}

// schemaDefinitions parses the embedded schema and returns its
// definitions in file order.
func schemaDefinitions() ([]definition, error) {
	names, err := fs.Glob(schema.FS, "*.cue")
	if err != nil {
		return nil, err
	}
	var defs []definition
	for _, name := range names {
		src, err := fs.ReadFile(schema.FS, name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(name, src, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parsing embedded schema: %w", err)
		}
		for _, d := range f.Decls {
			fld, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			id, ok := fld.Label.(*ast.Ident)
			if !ok || !strings.HasPrefix(id.Name, "#") {
				continue
			}
			st, _ := fld.Value.(*ast.StructLit)
			// A definition declared again (a section's file adding its
			// fields to #System or #Environment) is one definition: its
			// fields follow the earlier ones, in file order.
			if i := slices.IndexFunc(defs, func(d definition) bool { return d.name == id.Name }); i >= 0 && st != nil && defs[i].body != nil {
				merged := *defs[i].body
				merged.Elts = append(slices.Clone(merged.Elts), st.Elts...)
				defs[i].body = &merged
				// The documented declaration documents the definition,
				// whichever file comes first.
				if defs[i].doc == "" {
					defs[i].doc = docText(fld)
				}
				continue
			}
			defs = append(defs, definition{name: id.Name, doc: docText(fld), body: st, expr: fld.Value})
		}
	}
	return defs, nil
}

func docText(n ast.Node) string {
	var lines []string
	for _, cg := range ast.Comments(n) {
		if !cg.Doc {
			continue
		}
		lines = append(lines, strings.TrimSpace(cg.Text()))
	}
	return strings.Join(lines, "\n")
}

func writeDoc(w io.Writer, indent, doc string) {
	if doc == "" {
		return
	}
	for _, l := range strings.Split(doc, "\n") {
		fmt.Fprintf(w, "%s%s\n", indent, l)
	}
}

func nodeString(n ast.Node) string {
	b, err := format.Node(n)
	if err != nil {
		return "<?>"
	}
	return string(b)
}

// writeFields prints the fields of st, each under its path from the
// definition (prefix is the path of st itself, ending in a dot), then the
// fields of any struct nested in its value, so that every field of the
// schema has a line of its own: canary.percent, parameters.<name>.default,
// retry.backoff.duration.
func writeFields(w io.Writer, prefix string, st *ast.StructLit) {
	for _, e := range st.Elts {
		fld, ok := e.(*ast.Field)
		if !ok {
			continue
		}
		label, _ := labelName(fld.Label)
		marker := ""
		switch fld.Constraint {
		case token.OPTION:
			marker = "?"
		case token.NOT:
			marker = "!"
		}
		path := prefix + label
		fmt.Fprintf(w, "  %s%s: %s\n", path, marker, oneLine(fld.Value))
		writeDoc(w, "      ", docText(fld))
		for _, n := range nestedStructs(fld.Value, "") {
			writeFields(w, path+n.suffix+".", n.st)
		}
	}
}

// nested is a struct with fields inside a field's value; suffix is what
// leads to it from the field: "" for the value itself, ".<name>" through a
// pattern ([string]: {…}), "[]" through a list ([...{…}]).
type nested struct {
	suffix string
	st     *ast.StructLit
}

// nestedStructs finds the structs with fields in a field's value, through
// disjunctions, unifications, defaults, parentheses, patterns and lists.
func nestedStructs(e ast.Expr, suffix string) []nested {
	switch x := e.(type) {
	case *ast.StructLit:
		if p, ok := patternField(x); ok {
			return nestedStructs(p.Value, suffix+".<name>")
		}
		if !hasFields(x) {
			return nil
		}
		return []nested{{suffix, x}}
	case *ast.BinaryExpr:
		return append(nestedStructs(x.X, suffix), nestedStructs(x.Y, suffix)...)
	case *ast.UnaryExpr:
		return nestedStructs(x.X, suffix)
	case *ast.ParenExpr:
		return nestedStructs(x.X, suffix)
	case *ast.ListLit:
		var out []nested
		for _, el := range x.Elts {
			if el, ok := el.(*ast.Ellipsis); ok && el.Type != nil {
				out = append(out, nestedStructs(el.Type, suffix+"[]")...)
			}
		}
		return out
	}
	return nil
}

// patternField returns the only field of a struct written as a pattern
// constraint without braces: the {[string]: X} of `[string]: X`.
func patternField(st *ast.StructLit) (*ast.Field, bool) {
	if st.Lbrace.IsValid() || len(st.Elts) != 1 {
		return nil, false
	}
	f, ok := st.Elts[0].(*ast.Field)
	if !ok {
		return nil, false
	}
	if _, ok := f.Label.(*ast.ListLit); !ok {
		return nil, false
	}
	return f, true
}

func hasFields(st *ast.StructLit) bool {
	for _, e := range st.Elts {
		if _, ok := e.(*ast.Field); ok {
			return true
		}
	}
	return false
}

// oneLine prints a field's value on one line. A struct with fields is
// shortened to { … }, its fields following on lines of their own; the rest
// is printed as the schema writes it.
func oneLine(e ast.Expr) string {
	if st, ok := e.(*ast.StructLit); ok {
		if p, ok := patternField(st); ok {
			return nodeString(p.Label) + ": " + oneLine(p.Value)
		}
	}
	if len(nestedStructs(e, "")) == 0 {
		return nodeString(e)
	}
	switch x := e.(type) {
	case *ast.StructLit:
		return "{ … }"
	case *ast.BinaryExpr:
		return oneLine(x.X) + " " + x.Op.String() + " " + oneLine(x.Y)
	case *ast.UnaryExpr:
		return x.Op.String() + oneLine(x.X)
	case *ast.ParenExpr:
		return "(" + oneLine(x.X) + ")"
	case *ast.ListLit:
		elts := make([]string, len(x.Elts))
		for i, el := range x.Elts {
			if el, ok := el.(*ast.Ellipsis); ok && el.Type != nil {
				elts[i] = "..." + oneLine(el.Type)
				continue
			}
			elts[i] = nodeString(el)
		}
		return "[" + strings.Join(elts, ", ") + "]"
	}
	return nodeString(e)
}
