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
	slices.SortFunc(defs, func(a, b definition) int {
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
		for _, e := range d.body.Elts {
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
			fmt.Fprintf(w, "  %s%s: %s\n", label, marker, oneLine(fld.Value))
			writeDoc(w, "      ", docText(fld))
		}
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

// oneLine prints a field's value on one line. Short values, such as a map
// of definitions ([string]: #Training), are printed whole; a long struct is
// shortened to its opening brace, its fields being documented where their
// definition is.
func oneLine(e ast.Expr) string {
	raw := nodeString(e)
	st, isStruct := e.(*ast.StructLit)
	if !isStruct || !strings.Contains(raw, "\n") {
		return raw
	}
	if !st.Lbrace.IsValid() && len(st.Elts) == 1 {
		s := strings.Join(strings.Fields(raw), " ")
		return strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"))
	}
	return "{ … }"
}
