package compiler

import (
	"bytes"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"

	"github.com/kiln-ml/kiln/schema"
)

// TestReferenceListsEveryField parses the embedded schema on its own and
// checks that `kiln schema` gives every named field of every definition,
// at any depth, a line of its own ending in its name, followed by its
// documentation: no field hides inside a { … }.
func TestReferenceListsEveryField(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteReference(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// The field lines printed under each definition's heading.
	fieldLine := regexp.MustCompile(`^  (\S+?)[?!]?: `)
	printed := map[string][]string{}
	def := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "#") {
			def, _, _ = strings.Cut(l, ":")
			continue
		}
		if m := fieldLine.FindStringSubmatch(l); m != nil {
			printed[def] = append(printed[def], m[1])
		}
	}

	type want struct{ label, doc string }
	fields := map[string][]want{}
	names, err := fs.Glob(schema.FS, "*.cue")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		src, err := fs.ReadFile(schema.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(name, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			def, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			id, ok := def.Label.(*ast.Ident)
			if !ok || !strings.HasPrefix(id.Name, "#") {
				continue
			}
			ast.Walk(def.Value, func(n ast.Node) bool {
				fld, ok := n.(*ast.Field)
				if !ok {
					return true
				}
				// Pattern constraints ([string]: X) are not fields; their
				// value's fields are.
				if _, ok := fld.Label.(*ast.ListLit); ok {
					return true
				}
				label, _ := labelName(fld.Label)
				fields[id.Name] = append(fields[id.Name], want{label, docText(fld)})
				return true
			}, nil)
		}
	}
	if len(fields) == 0 {
		t.Fatal("found no fields in the schema")
	}
	for def, fs := range fields {
		got := printed[def]
		if len(got) != len(fs) {
			t.Errorf("%s has %d fields, the reference prints %d: %q", def, len(fs), len(got), got)
			continue
		}
		for i, f := range fs {
			p := got[i]
			if p != f.label && !strings.HasSuffix(p, "."+f.label) {
				t.Errorf("%s: field line %d is %q, want the field %q", def, i, p, f.label)
			}
			for _, l := range strings.Split(f.doc, "\n") {
				if l != "" && !strings.Contains(out, "      "+l+"\n") {
					t.Errorf("%s: documentation of %s missing: %q", def, p, l)
				}
			}
		}
	}
	if regexp.MustCompile(`(?m)^  \S+: .*// `).MatchString(out) {
		t.Errorf("a field's line contains comments of nested fields:\n%s", out)
	}
}
