package compiler

import (
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"

	"github.com/kiln-ml/kiln/diag"
)

// Rendering a spec takes time and memory linear in its entries, CUE's
// evaluation included. Measured on bench/cmd/synth's systems (one
// environment, about 0.8 kB of CUE per model; 2 cores, busy), `kiln
// render` took about 8.5 s of CPU and 0.5 GB of peak RSS per 1,000
// models, from 1,000 (0.9 MB: 8 s, 0.55 GB) to 4,000 (3.3 MB: 34 s,
// 2 GB), evaluation a fixed share of it. Real specs have hundreds of
// entries: kiln refuses input far beyond that (4 MiB is about 5,000 such
// models), and nesting no spec needs, with an error instead of minutes
// of CPU and gigabytes of memory.
const (
	// MaxSpecBytes bounds the total size of a spec's .cue files.
	MaxSpecBytes = 4 << 20
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
			c.diags.Errorf(diag.Pos{File: c.pos.rel(f.Filename)}, "", "the spec's .cue files are at least %d bytes, over kiln's limit of %d (4 MiB): rendering takes time and memory in proportion to the spec, and a spec this large would take minutes and gigabytes, so kiln refuses it; split the system into several specs", total, MaxSpecBytes)
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
