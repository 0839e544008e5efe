package compiler

import (
	"io/fs"
	"regexp"
	"strings"
	"sync"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/schema"
)

// CUE reports a value that fails a pattern as `invalid value "lots" (out of
// bound =~"^[+]?([0-9]+…")`, which tells a user nothing. The schema names
// its patterns (#Quantity, #DNSLabel, …) and documents them, so the
// compiler can say what was expected instead: the definition's name and the
// first sentence of its documentation.
var (
	patternsOnce sync.Once
	patterns     map[string]string // regular expression -> description
	boundRE      = regexp.MustCompile(`^invalid value (.+) \(out of bound =~(".*")\)$`)
)

func schemaPatterns() map[string]string {
	patternsOnce.Do(func() {
		patterns = map[string]string{}
		names, _ := fs.Glob(schema.FS, "*.cue")
		for _, name := range names {
			src, err := fs.ReadFile(schema.FS, name)
			if err != nil {
				continue
			}
			f, err := parser.ParseFile(name, src, parser.ParseComments)
			if err != nil {
				continue
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
				if _, isStruct := fld.Value.(*ast.StructLit); isStruct {
					// Patterns inside a struct belong to one of its
					// fields, not to the struct's description.
					continue
				}
				doc := firstSentence(docText(fld))
				ast.Walk(fld.Value, func(n ast.Node) bool {
					u, ok := n.(*ast.UnaryExpr)
					if ok && u.Op == token.MAT {
						if lit, ok := u.X.(*ast.BasicLit); ok {
							desc := strings.TrimSuffix(strings.TrimPrefix(doc, id.Name+" is "), ".")
							patterns[lit.Value] = desc + " (" + id.Name + ")"
						}
					}
					return true
				}, nil)
			}
		}
	})
	return patterns
}

// describePattern rewrites a pattern mismatch in the schema's own words.
func describePattern(msg string) string {
	m := boundRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	if desc, ok := schemaPatterns()[m[2]]; ok {
		return "invalid value " + m[1] + ": want " + desc
	}
	return msg
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return s
}
