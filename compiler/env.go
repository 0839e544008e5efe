package compiler

import (
	"maps"
	"slices"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// Environments patch the base spec after CUE has evaluated it. CUE cannot
// override a concrete value by unification, so an override is applied the
// way a JSON merge patch (RFC 7396) is: objects merge key by key, anything
// else replaces the base value, and null deletes it. The patched result is
// unified with #System again, so an override is held to the same rules as
// the base, and every value keeps the position of whoever set it last.

// applyOverrides patches dst (the base spec, as JSON values) with patch and
// keeps src, the positions of dst's values, in step: a replaced value takes
// the override's position. patchPath is the CUE path of patch itself, so its
// own positions can be found in src.
func applyOverrides(dst, patch map[string]any, path, patchPath string, src ir.Sources) {
	var moves []move
	patchValues(dst, patch, path, patchPath, &moves)
	moveSources(src, moves)
}

// move says that the positions under from (an override) become those of
// to, replacing the ones to had.
type move struct{ from, to string }

// patchValues is applyOverrides on the values, recording the moves of
// positions it implies, in order.
func patchValues(dst, patch map[string]any, path, patchPath string, moves *[]move) {
	for _, k := range slices.Sorted(maps.Keys(patch)) {
		pv := patch[k]
		child, patchChild := ir.Join(path, k), ir.Join(patchPath, k)
		pm, pIsMap := pv.(map[string]any)
		dm, dIsMap := dst[k].(map[string]any)
		switch {
		case pIsMap && dIsMap:
			// The struct itself stays where the base defined it; only
			// the fields the override names move.
			patchValues(dm, pm, child, patchChild, moves)
		case pIsMap:
			// Where the base has no object, the override is merged into
			// an empty one: its nulls delete nothing and do not remain.
			m := map[string]any{}
			*moves = append(*moves, move{patchChild, child})
			patchValues(m, pm, child, patchChild, moves)
			dst[k] = m
		case pv == nil:
			delete(dst, k)
			*moves = append(*moves, move{patchChild, child})
		default:
			dst[k] = clone(pv)
			*moves = append(*moves, move{patchChild, child})
		}
	}
}

// moveSources makes the positions under each move's from those of its to,
// dropping the positions to had before, in one pass over src: moving them
// one override at a time went over every position of the spec for each
// overridden value. A move below another's to (a field of an object the
// override adds) moves what the outer one moved already.
func moveSources(src ir.Sources, moves []move) {
	if len(moves) == 0 {
		return
	}
	to := map[string]string{}   // to -> from
	from := map[string]string{} // from -> to
	for _, m := range moves {
		to[m.to] = m.from
		from[m.from] = m.to
	}
	// under returns the path of set that p is or is below, if any.
	under := func(p string, set map[string]string) (string, bool) {
		if _, ok := set[p]; ok {
			return p, true
		}
		for i := len(p) - 1; i > 0; i-- {
			if p[i] == '.' {
				if _, ok := set[p[:i]]; ok {
					return p[:i], true
				}
			}
		}
		return "", false
	}
	copies := map[string]diag.Pos{}
	for p, pos := range src {
		if f, ok := under(p, from); ok {
			copies[from[f]+p[len(f):]] = pos
		}
	}
	for p := range src {
		if _, ok := under(p, to); ok {
			delete(src, p)
		}
	}
	maps.Copy(src, copies)
}

// clone deep-copies a JSON value so patches never alias the base.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = clone(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = clone(e)
		}
		return l
	}
	return v
}
