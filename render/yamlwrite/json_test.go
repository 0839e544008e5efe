package yamlwrite_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/render/yamlwrite"
)

// cleanMap is kiln's cleaning (render's clean, then the top-level status
// dropped), written again here from its description.
func cleanMap(m map[string]any) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(e)
				if md, ok := e.(map[string]any); ok && k == "metadata" {
					if ts, ok := md["creationTimestamp"]; ok && ts == nil {
						delete(md, "creationTimestamp")
					}
					if len(md) == 0 {
						delete(v, k)
					}
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(m)
	delete(m, "status")
}

// sameJSON checks that AppendObject writes for js what Append writes for
// the cleaned map encoding/json decodes from it, or declines. It reports
// whether AppendObject wrote js.
func sameJSON(t testing.TB, name string, js []byte) bool {
	t.Helper()
	prefix := []byte("# header\n")
	got, ok := yamlwrite.AppendObject(slices.Clip(prefix), js)
	if !ok {
		if !bytes.Equal(got, prefix) {
			t.Fatalf("%s: declined but changed dst: %q", name, got)
		}
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || dec.More() || m == nil {
		t.Fatalf("%s: encoding/json cannot read %q (%v), AppendObject wrote\n%s", name, js, err, got)
	}
	if _, err := dec.Token(); err == nil {
		t.Fatalf("%s: text after the object in %q, AppendObject wrote\n%s", name, js, got)
	}
	cleanMap(m)
	want, wok := yamlwrite.Append(slices.Clip(prefix), m)
	if !wok {
		t.Fatalf("%s: Append declines the map of %q, AppendObject wrote\n%s", name, js, got)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: AppendObject wrote\n%s\nAppend wrote\n%s\nfor %s", name, got, want, js)
	}
	return true
}

// withMetadata adds metadata (with and without null creationTimestamps,
// empty or not) and status members at random places, so that cleaning
// has work to do.
func withMetadata(r *rand.Rand, v any, top bool) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = withMetadata(r, e, false)
		}
		switch r.IntN(5) {
		case 0:
			v["metadata"] = map[string]any{"creationTimestamp": nil}
		case 1:
			v["metadata"] = map[string]any{"creationTimestamp": nil, "name": "x", "metadata": map[string]any{"creationTimestamp": nil}}
		case 2:
			v["metadata"] = map[string]any{"creationTimestamp": "2026-12-07T00:00:00Z"}
		case 3:
			v["status"] = map[string]any{}
		}
	case []any:
		for i, e := range v {
			v[i] = withMetadata(r, e, false)
		}
	}
	return v
}

// TestAppendObject checks AppendObject against decoding and Append, on
// the random documents of TestRandomDocuments (as encoding/json writes
// them: sorted, with <, > and & escaped) with metadata to clean, and on
// hand-written JSON with whitespace, escapes and duplicate keys.
func TestAppendObject(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 80))
	n, written := 10000, 0
	if testing.Short() {
		n = 1000
	}
	for i := range n {
		m, ok := randomValue(r, 0).(map[string]any)
		if !ok {
			m = map[string]any{"v": randomValue(r, 1)}
		}
		withMetadata(r, m, true)
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if sameJSON(t, fmt.Sprintf("random %d", i), js) {
			written++
		}
	}
	t.Logf("%d of %d documents written", written, n)
	if written < n/10 {
		t.Errorf("only %d of %d documents written", written, n)
	}
	for _, c := range []struct {
		js    string
		wrote bool
	}{
		{`{}`, true},
		{` { "b" : [ 1 , 2.5e3 , -0 , true , false , null , { } , [ ] ] , "a" : "x\"y\\z\/\u003c\u003e\u0026" } `, true},
		{`{"metadata":{"creationTimestamp":null},"status":{"x":1},"spec":{"template":{"metadata":{"creationTimestamp":null,"labels":{"a":"b"}}}}}`, true},
		{`{"s":"line\nbreak\n","t":"tab\there"}`, false},
		{`{"a":1,"a":2}`, false},
		{`{"metadata":{"creationTimestamp":"x","creationTimestamp":null}}`, false},
		{`{"metadata":{"creationTimestamp":null},"metadata":{"name":"x"}}`, false},
		{`{"status":1,"status":2,"a":1}`, false}, // declined, though both go
		{`{"u":"\u00e9"}`, false},
		{`{"u":"é"}`, false},
		{`{"a":01}`, false},
		{`{"a":1.}`, false},
		{`{"a":[1,]}`, false},
		{`{"a":1,}`, false},
		{`{"a":1}x`, false},
		{`{"a":1}{}`, false},
		{`[1]`, false},
		{`{"a":tru}`, false},
		{`{"a":"\x"}`, false},
		{`{"a":"`, false},
	} {
		if got := sameJSON(t, c.js, []byte(c.js)); got != c.wrote {
			t.Errorf("%s: wrote %v, want %v", c.js, got, c.wrote)
		}
	}
}

// FuzzAppendObject checks that AppendObject writes for any text what
// decoding and Append write, or declines.
func FuzzAppendObject(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"creationTimestamp":null,"name":"x"},"data":{"a":"b: c","n":"1"}}`))
	f.Add([]byte(` {"a" : [1, {"b":null}, [], {}], "c":"\u003c\n"} `))
	f.Add([]byte(`{"metadata":{"creationTimestamp":null},"status":{}}`))
	f.Fuzz(func(t *testing.T, js []byte) {
		sameJSON(t, "fuzz", js)
	})
}
