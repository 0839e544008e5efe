package render_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	goyaml "go.yaml.in/yaml/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kiln-ml/kiln/render"
)

// throughJSON is how Marshal encoded before it handed go-yaml the values
// directly: the cleaned map as JSON text (encoding/json writes map keys in
// bytewise order, kiln's key order), parsed by go-yaml into ordered maps,
// which keep that order, and encoded by go-yaml. It reports false where
// that route failed.
func throughJSON(t *testing.T, obj any) ([]byte, bool) {
	t.Helper()
	m, err := render.ToMap(obj)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// The same cleaning as Marshal, applied to a fresh decode.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var clean map[string]any
	if err := dec.Decode(&clean); err != nil {
		t.Fatal(err)
	}
	delete(clean, "status")
	if md, ok := clean["metadata"].(map[string]any); ok {
		if ts, ok := md["creationTimestamp"]; ok && ts == nil {
			delete(md, "creationTimestamp")
		}
	}
	j, err := json.Marshal(clean)
	if err != nil {
		t.Fatal(err)
	}
	var doc goyaml.MapSlice
	if err := goyaml.Unmarshal(j, &doc); err != nil {
		return nil, false
	}
	y, err := goyaml.Marshal(doc)
	return y, err == nil
}

// scalars are values whose YAML form depends on go-yaml's rules: numbers
// it reads as ints or floats, strings that look like numbers, booleans or
// null and so need quotes, long and multi-line strings it folds or writes
// as blocks. (Not U+0085: go-yaml's parser reads it as a line break and
// the JSON route turned it into a space or failed; the direct route keeps
// it, escaped.)
var scalars = []any{
	json.Number("0"), json.Number("-1"), json.Number("42"), json.Number("0.001"),
	json.Number("1e-4"), json.Number("1E+30"), json.Number("2.50"), json.Number("9223372036854775807"),
	json.Number("9223372036854775808"), json.Number("18446744073709551616"), json.Number("-0"),
	json.Number("3.0"), json.Number("1e6"),
	"", " ", "0", "0.5", "1e3", "0x1F", "0o17", "true", "False", "yes", "No", "on", "off", "y", "n",
	"null", "~", "-", "- a", "a: b", "#x", "x #y", "@at", "`tick", "{{workflow.name}}", "[a]",
	"multi\nline\n", "multi\nline", "trailing space ", "\ttab", "ünïcödé", "emoji 🚀",
	strings.Repeat("long words wrap ", 12), strings.Repeat("x", 200), "a\u2028b",
	"'single'", "\"double\"", "back\\slash", "2026-12-07", "12:30", "1_000", ".inf", "-.Inf", ".NaN",
	true, false, nil,
}

// yamlKeys are map keys go-yaml quotes, and keys its own sort would order
// otherwise than bytewise (digits compared as numbers).
var yamlKeys = []string{"a", "b", "Z", "a9", "a10", "9", "10", "true", "null", "yes", "", " ", "x y", "ünï", "-", "#", "a:b", "{x}"}

// TestMarshalMatchesJSONRoute proves that Marshal writes the bytes the
// route through JSON text wrote, for go-yaml's awkward cases and for
// random documents built from them.
func TestMarshalMatchesJSONRoute(t *testing.T) {
	check := func(name string, content map[string]any) {
		t.Helper()
		u := &unstructured.Unstructured{Object: content}
		u.SetAPIVersion("example.dev/v1")
		u.SetKind("Thing")
		u.SetName("thing")
		got, err := render.Marshal(u)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want, ok := throughJSON(t, u); ok && !bytes.Equal(got, want) {
			t.Errorf("%s: Marshal wrote\n%s\nthe JSON route wrote\n%s", name, got, want)
		}
	}
	for i, v := range scalars {
		check(fmt.Sprintf("scalar %d", i), map[string]any{
			"spec": map[string]any{"value": v, "list": []any{v, v}, "10": 1, "9": 2, "a10": 3, "a9": 4},
		})
	}
	r := rand.New(rand.NewPCG(1, 2))
	var gen func(depth int) any
	gen = func(depth int) any {
		switch k := r.IntN(4); {
		case depth > 3 || k == 0:
			return scalars[r.IntN(len(scalars))]
		case k == 1:
			l := make([]any, r.IntN(4))
			for i := range l {
				l[i] = gen(depth + 1)
			}
			return l
		default:
			m := map[string]any{}
			for range r.IntN(5) {
				m[yamlKeys[r.IntN(len(yamlKeys))]] = gen(depth + 1)
			}
			return m
		}
	}
	for i := range 300 {
		spec, ok := gen(0).(map[string]any)
		if !ok {
			spec = map[string]any{"v": gen(1)}
		}
		check(fmt.Sprintf("random %d", i), map[string]any{"spec": spec})
	}
}
