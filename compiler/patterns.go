package compiler

import (
	"regexp"
	"strings"
	"sync"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
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
		defs, err := schemaDefinitions()
		if err != nil {
			return // messages stay as CUE wrote them
		}
		for _, d := range defs {
			if d.body != nil {
				// Patterns inside a struct belong to one of its fields,
				// not to the struct's description.
				continue
			}
			desc := strings.TrimSuffix(strings.TrimPrefix(firstSentence(d.doc), d.name+" is "), ".")
			ast.Walk(d.expr, func(n ast.Node) bool {
				if u, ok := n.(*ast.UnaryExpr); ok && u.Op == token.MAT {
					if lit, ok := u.X.(*ast.BasicLit); ok {
						patterns[lit.Value] = desc + " (" + d.name + ")"
					}
				}
				return true
			}, nil)
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
