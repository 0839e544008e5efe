package render

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	goyaml "go.yaml.in/yaml/v2"
)

// TestOrderedKeysAreBytewise checks that ordered hands go-yaml every map,
// nested ones included, with its keys in bytewise order: keys go-yaml's
// own comparator orders differently or inconsistently, and random keys.
func TestOrderedKeysAreBytewise(t *testing.T) {
	keys := []string{
		"", "a", "b", "A", "Z", "ä", "ß", "1", "9", "10", "01", "1a", "a1", "a10", "a9",
		"1e-4", "-", "_", ".", " ", "x y", "x-y", "x_y", "xY", "app.kubernetes.io/name", "🚀",
	}
	runes := []rune("0019a_b-Z.ä٣ /`[")
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		keys = append(keys, b.String())
	}
	m := map[string]any{}
	for _, k := range keys {
		m[k] = map[string]any{"z": 1, "a10": []any{map[string]any{"a9": 1, "a10": 2}}}
	}
	want := slices.Sorted(slices.Values(keys))
	want = slices.Compact(want)
	top, ok := ordered(m).(goyaml.MapSlice)
	if !ok {
		t.Fatalf("ordered returned %T", ordered(m))
	}
	var got []string
	for _, it := range top {
		got = append(got, it.Key.(string))
		inner := it.Value.(goyaml.MapSlice)
		if inner[0].Key != "a10" || inner[1].Key != "z" {
			t.Fatalf("nested map keys %v, want a10 before z", inner)
		}
		in := inner[0].Value.([]any)[0].(goyaml.MapSlice)
		if in[0].Key != "a10" || in[1].Key != "a9" {
			t.Fatalf("map in a list: keys %v, want a10 before a9", in)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("keys in order\n%q\nwant\n%q", got, want)
	}
}
