package compiler

import (
	"maps"
	"slices"
	"strings"

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
	for _, k := range slices.Sorted(maps.Keys(patch)) {
		pv := patch[k]
		child, patchChild := ir.Join(path, k), ir.Join(patchPath, k)
		pm, pIsMap := pv.(map[string]any)
		dm, dIsMap := dst[k].(map[string]any)
		switch {
		case pIsMap && dIsMap:
			// The struct itself stays where the base defined it; only
			// the fields the override names move.
			applyOverrides(dm, pm, child, patchChild, src)
		case pIsMap:
			// Where the base has no object, the override is merged into
			// an empty one: its nulls delete nothing and do not remain.
			m := map[string]any{}
			moveSources(src, patchChild, child)
			applyOverrides(m, pm, child, patchChild, src)
			dst[k] = m
		case pv == nil:
			delete(dst, k)
			moveSources(src, patchChild, child)
		default:
			dst[k] = clone(pv)
			moveSources(src, patchChild, child)
		}
	}
}

// moveSources makes the positions under from (an override) those of to,
// dropping the positions to had before.
func moveSources(src ir.Sources, from, to string) {
	for _, p := range slices.Collect(maps.Keys(src)) {
		if p == to || strings.HasPrefix(p, to+".") {
			delete(src, p)
		}
	}
	for _, p := range slices.Collect(maps.Keys(src)) {
		if p == from || strings.HasPrefix(p, from+".") {
			src[to+strings.TrimPrefix(p, from)] = src[p]
		}
	}
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
