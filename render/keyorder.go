package render

import (
	"maps"
	"slices"

	goyaml "go.yaml.in/yaml/v2"
)

// ordered returns v with every map replaced, at any depth, by a
// goyaml.MapSlice holding its entries in kiln's key order, so that
// go-yaml writes them as they are and never sorts a map itself.
//
// kiln's key order is the bytewise order of the keys (the order
// encoding/json writes map keys in): a total order, so the same map is
// written the same way on every run. go-yaml's own sort compares runs of
// digits as numbers and puts letters after every other rune; for keys
// mixing digits and letters that is not a consistent order ("9" < "10" <
// "1a" < "9"), and go-yaml applies it in Go's random map iteration order,
// so it could write one map in different orders from run to run. The two
// orders differ only for keys that differ first at a digit, or at a
// letter against one of `[\]^_` and backquote; kiln's own keys and every
// golden file read the same in both.
//
// Lists are rewritten in place; the maps are left as they are.
func ordered(v any) any {
	switch v := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		s := make(goyaml.MapSlice, len(keys))
		for i, k := range keys {
			s[i] = goyaml.MapItem{Key: k, Value: ordered(v[k])}
		}
		return s
	case []any:
		for i, e := range v {
			v[i] = ordered(e)
		}
	}
	return v
}
