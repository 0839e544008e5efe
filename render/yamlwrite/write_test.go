package yamlwrite_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	goyaml "go.yaml.in/yaml/v2"

	"github.com/kiln-ml/kiln/render/yamlwrite"
)

// reference is what kiln wrote before this package: go-yaml's Marshal of
// the values, maps as MapSlices in bytewise key order, each json.Number
// replaced by what go-yaml's parser reads from it. It reports false where
// go-yaml fails.
func reference(m map[string]any) ([]byte, bool) {
	v, ok := toGoYAML(m)
	if !ok {
		return nil, false
	}
	b, err := goyaml.Marshal(v)
	return b, err == nil
}

func toGoYAML(v any) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		s := goyaml.MapSlice{}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			e, ok := toGoYAML(v[k])
			if !ok {
				return nil, false
			}
			s = append(s, goyaml.MapItem{Key: k, Value: e})
		}
		return s, true
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			var ok bool
			if l[i], ok = toGoYAML(e); !ok {
				return nil, false
			}
		}
		return l, true
	case json.Number:
		var r any
		if err := goyaml.Unmarshal([]byte(v), &r); err != nil {
			return nil, false
		}
		return r, true
	}
	return v, true
}

// same checks that Append writes m as the reference does, or declines.
// It reports whether Append wrote m.
func same(t testing.TB, name string, m map[string]any) bool {
	t.Helper()
	prefix := []byte("# header\n")
	got, ok := yamlwrite.Append(slices.Clip(prefix), m)
	want, wok := reference(m)
	if !ok {
		if !bytes.Equal(got, prefix) {
			t.Fatalf("%s: declined but changed dst: %q", name, got)
		}
		return false
	}
	if !wok {
		t.Fatalf("%s: go-yaml fails, Append wrote\n%s", name, got)
	}
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("%s: Append wrote\n%s\ngo-yaml wrote\n%s\n(document %#v)", name, got[min(len(got), len(prefix)):], want, m)
	}
	return true
}

// fromGoYAML converts what go-yaml's parser read into kiln's kind of
// values (maps with string keys), or reports false.
func fromGoYAML(v any) (any, bool) {
	switch v := v.(type) {
	case map[any]any:
		m := map[string]any{}
		for k, e := range v {
			ks, ok := k.(string)
			if !ok {
				return nil, false
			}
			if m[ks], ok = fromGoYAML(e); !ok {
				return nil, false
			}
		}
		return m, true
	case []any:
		for i, e := range v {
			var ok bool
			if v[i], ok = fromGoYAML(e); !ok {
				return nil, false
			}
		}
		return v, true
	}
	return v, true
}

// TestGoldens re-encodes every YAML document under the repository's
// testdata directories both ways, from the map and (AppendObject) from its
// JSON text. kiln's own rendered goldens (render and
// cli) must all be written here, never declined: that is where the speed
// comes from.
func TestGoldens(t *testing.T) {
	var files []string
	err := filepath.WalkDir("../..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") && strings.Contains(filepath.ToSlash(p), "/testdata/") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, written := 0, 0
	var declined []string
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec := goyaml.NewDecoder(bytes.NewReader(b))
		for i := 0; ; i++ {
			var v any
			if err := dec.Decode(&v); err != nil {
				break // io.EOF, or not YAML go-yaml reads: not kiln's
			}
			c, ok := fromGoYAML(v)
			m, isMap := c.(map[string]any)
			if !ok || !isMap {
				continue
			}
			docs++
			name := fmt.Sprintf("%s#%d", p, i)
			if !same(t, name, m) {
				declined = append(declined, name)
				continue
			}
			// And from JSON text, as typed objects are written.
			js, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, name+" (JSON)", js) {
				declined = append(declined, name+" (JSON)")
				continue
			}
			written++
		}
	}
	t.Logf("%d files, %d documents, %d written, %d declined", len(files), docs, written, len(declined))
	if docs < 100 {
		t.Fatalf("only %d golden documents found", docs)
	}
	// Declining is safe but slow: kiln's own output must take the fast
	// path. (A golden that legitimately holds what the writer declines
	// needs the writer widened, or an exception here.)
	for _, d := range declined {
		t.Errorf("declined: %s", d)
	}
}
