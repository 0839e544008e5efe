package compiler

import (
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"

	"github.com/kiln-ml/kiln/diag"
)

// CUE's evaluator takes time that grows faster than the spec: a 2,000-entry
// spec (350 kB) takes about two seconds, a 5 MB one minutes. Real specs have
// hundreds of entries, so kiln refuses input far beyond that, and nesting
// no spec needs, with an error instead of minutes of CPU.
const (
	// MaxSpecBytes bounds the total size of a spec's .cue files.
	MaxSpecBytes = 1 << 20
	// MaxSpecDepth bounds the nesting of structs and lists.
	MaxSpecDepth = 64
)

// checkLimits reports a spec beyond MaxSpecBytes or MaxSpecDepth, at the
// file (or the value) that goes over. It reports whether the spec is
// within them.
func (c *compilation) checkLimits(inst *build.Instance) bool {
	total := 0
	for _, f := range inst.Files {
		tf := f.Pos().File()
		if tf == nil {
			continue
		}
		total += tf.Size()
		if total > MaxSpecBytes {
			c.diags.Errorf(diag.Pos{File: c.pos.rel(f.Filename)}, "", "the spec's .cue files are at least %d bytes, over kiln's limit of %d (1 MiB): evaluation time grows faster than the spec, so kiln refuses specs this large; split the system into several specs", total, MaxSpecBytes)
			return false
		}
	}
	for _, f := range inst.Files {
		depth := 0
		var deepest ast.Node
		ast.Walk(f, func(n ast.Node) bool {
			if deepest != nil {
				return false
			}
			switch n.(type) {
			case *ast.StructLit, *ast.ListLit:
				depth++
				if depth > MaxSpecDepth {
					deepest = n
					return false
				}
			}
			return true
		}, func(n ast.Node) {
			switch n.(type) {
			case *ast.StructLit, *ast.ListLit:
				depth--
			}
		})
		if deepest != nil {
			c.diags.Errorf(c.pos.pos(deepest.Pos()), "", "values are nested more than %d deep here, deeper than any spec needs; kiln refuses such input rather than evaluate it", MaxSpecDepth)
			return false
		}
	}
	return true
}
