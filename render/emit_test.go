package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// The emitter (emit.go) must write exactly what go-yaml writes: these
// tests hand the same documents to both and compare bytes. Where the
// emitter declines a document (errFallback), Marshal uses go-yaml, so
// declining is never wrong; writing different bytes is.

// sameAsGoYAML encodes m with the emitter and with go-yaml (on a copy:
// marshalGoYAML changes its argument) and fails the test where the bytes
// differ. It reports whether the emitter wrote the document itself.
func sameAsGoYAML(tb testing.TB, name string, m map[string]any) bool {
	tb.Helper()
	want, wantErr := marshalGoYAML(deepCopy(m))
	got, err := appendYAML(nil, m)
	if errors.Is(err, errFallback) {
		return false
	}
	if (err != nil) != (wantErr != nil) {
		tb.Fatalf("%s: emitter error %v, go-yaml error %v", name, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		tb.Fatalf("%s: the emitter wrote\n%s\ngo-yaml wrote\n%s\n(document %#v)", name, got, want, m)
	}
	return true
}

func deepCopy(v any) map[string]any {
	var cp func(any) any
	cp = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(v))
			for k, e := range v {
				m[k] = cp(e)
			}
			return m
		case []any:
			l := make([]any, len(v))
			for i, e := range v {
				l[i] = cp(e)
			}
			return l
		}
		return v
	}
	return cp(v).(map[string]any)
}

// awkward are scalars whose YAML form depends on go-yaml's rules: what
// reads back as another type, indicators, quotes, breaks of every kind,
// characters go-yaml escapes, lengths around the folding width and the
// simple-key limit.
var awkward = []any{
	json.Number("0"), json.Number("-1"), json.Number("42"), json.Number("0.001"), json.Number("1e-4"),
	json.Number("1E+30"), json.Number("2.50"), json.Number("9223372036854775807"),
	json.Number("9223372036854775808"), json.Number("18446744073709551616"), json.Number("-0"),
	json.Number("3.0"), json.Number("1e6"), json.Number("-9223372036854775809"), json.Number("1e400"),
	0, -7, int64(math.MinInt64), uint64(math.MaxUint64), 0.5, 1e21, 1e-7, math.Inf(1), math.Inf(-1), math.NaN(),
	true, false, nil, map[string]any{}, []any{},
	"", " ", "  ", "0", "0.5", "1e3", "0x1F", "0o17", "0b101", "-0b101", "0b2", "+1", "-", "--", "---", "---x",
	"...", "....", "1_000", "1__0", "_1", "1:20", "-1:20:30.5", "1:60", "190:20:30", "12:30", "2026-12-07",
	"2026-12-07T10:00:00Z", "2026-1-2 3:4:5", "2026-13-45", "20261-12-07", ".5", ".", "..5", ".inf", "-.Inf",
	"+.INF", ".NaN", ".nan", ".Nan", "infinity", "Infinity", "nan", "1e", "e1", "0x", "0xg", "1.2.3", "+", "+-1",
	"true", "True", "TRUE", "tRUE", "false", "yes", "Yes", "YES", "no", "No", "on", "On", "off", "OFF", "y",
	"Y", "n", "N", "null", "Null", "NULL", "nULL", "~", "~x", "<<", "=", "!", "&a", "*a", "|", ">", "%x", "@at",
	"`tick", "'", "''", "'single'", "\"", "\"double\"", "back\\slash", "#x", "x#y", "x #y", "x# y", ":", "::",
	"a:b", "a: b", "a:", "a :", "?", "? x", "?x", "- a", "-a", "a -", ",", "a,b", "[a]", "{a}", "a[0]", "{{workflow.name}}",
	"trailing space ", " leading space", "\ttab", "tab\t", "a\tb", "multi\nline\n", "multi\nline",
	"multi\nline\n\n", "\n", "\n\n", "\nlead", " \nx", "x \ny", "x\n y", "x\n\n\ny\n", "  indented\nblock\n",
	"cr\rlf", "crlf\r\n", "\r", "nel\u0085x", "ls\u2028x", "ps\u2029x", "\u2028", "x\u0085",
	"nbsp\u00a0x", "\u00a0", "ünïcödé", "emoji 🚀", "🚀", "bom\ufeffx", "\ufeffbom", "\ufffe", "\uffff", "\ue000",
	"\ud7ff", "\x00", "nul\x00x", "bell\x07", "esc\x1b", "del\x7f", "\x01\x02", "\u0080", "\u009f",
	strings.Repeat("long words wrap ", 12), strings.Repeat("x", 200), strings.Repeat("word ", 40) + "end",
	strings.Repeat("a ", 60), strings.Repeat("ab  ", 40), "x" + strings.Repeat(" ", 100) + "y",
	strings.Repeat("é ", 60), strings.Repeat("🚀 ", 40), strings.Repeat("\"quoted\" ", 20),
	strings.Repeat("'q' ", 40), strings.Repeat("true ", 30) + "\t", strings.Repeat("z", 127),
	strings.Repeat("z", 128), strings.Repeat("z", 129), strings.Repeat("ü", 64), strings.Repeat("ü", 65),
	strings.Repeat("long line in a block ", 10) + "\nsecond\n", "#!/bin/sh\nset -e\necho \"hi\"\n",
}

// TestEmitterAwkwardScalars writes each awkward scalar as a value, as a
// key, in a list, and deep enough to fold at other columns.
func TestEmitterAwkwardScalars(t *testing.T) {
	written := 0
	for i, v := range awkward {
		docs := []map[string]any{
			{"v": v},
			{"spec": map[string]any{"value": v, "list": []any{v, []any{v, v}, map[string]any{"k": v}}}},
			{"a": map[string]any{"b": map[string]any{"c": map[string]any{"d": []any{map[string]any{"e": v, "f": v}}}}}},
			{"l": []any{[]any{[]any{v}}}},
		}
		if s, ok := v.(string); ok {
			docs = append(docs,
				map[string]any{s: 1},
				map[string]any{"m": map[string]any{s: v, "z" + s: []any{s}}},
				map[string]any{"l": []any{map[string]any{s: map[string]any{s: s}}}},
			)
		}
		for j, d := range docs {
			if sameAsGoYAML(t, fmt.Sprintf("scalar %d (%q) doc %d", i, v, j), d) {
				written++
			}
		}
	}
	if written == 0 {
		t.Fatal("the emitter declined every document")
	}
	t.Logf("the emitter wrote %d documents itself", written)
}

// TestEmitterDeclines checks what the emitter leaves to go-yaml: strings
// that are not UTF-8 (go-yaml writes !!binary) and Go types decoded JSON
// does not hold. (Marshal never meets the first: its values come through
// JSON, which has replaced such bytes.)
func TestEmitterDeclines(t *testing.T) {
	for _, m := range []map[string]any{
		{"v": "\xff"},
		{"\xfe": 1},
		{"v": []any{int32(1)}},
		{"v": map[string]string{"a": "b"}},
	} {
		if _, err := appendYAML(nil, m); !errors.Is(err, errFallback) {
			t.Errorf("%#v: got %v, want errFallback", m, err)
		}
	}
}

// runes are what random strings are made of: one of each class the
// emitter's analysis tells apart.
var runes = []rune("aZ0919 -_.:#,?[]{}&*!|>'\"%@`~<=+\\/\t\n\r\u0085\u2028\u2029\u00a0\ufeff\x00\x07ü🚀ß")

func randomString(r *rand.Rand) string {
	var b strings.Builder
	n := r.IntN(12)
	if r.IntN(5) == 0 {
		n = 60 + r.IntN(200) // past the folding width
	}
	for range n {
		switch r.IntN(6) {
		case 0, 1:
			b.WriteByte(' ') // spaces decide folding
		default:
			b.WriteRune(runes[r.IntN(len(runes))])
		}
	}
	return b.String()
}

func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(10); {
	case depth > 5 || k < 3:
		if r.IntN(3) == 0 {
			return awkward[r.IntN(len(awkward))]
		}
		return randomString(r)
	case k < 5:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randomValue(r, depth+1)
		}
		return l
	default:
		return randomMap(r, depth+1)
	}
}

func randomMap(r *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range r.IntN(5) {
		var k string
		switch r.IntN(4) {
		case 0:
			k = randomString(r)
		case 1:
			if s, ok := awkward[r.IntN(len(awkward))].(string); ok {
				k = s
			}
		default:
			k = string(rune('a' + r.IntN(26)))
		}
		m[k] = randomValue(r, depth)
	}
	return m
}

// TestEmitterRandomDocuments compares thousands of seeded random
// documents, nested up to six deep, their strings drawn from the
// characters and lengths that change go-yaml's decisions.
func TestEmitterRandomDocuments(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 500
	}
	r := rand.New(rand.NewPCG(7, 17))
	written := 0
	for i := range n {
		if sameAsGoYAML(t, fmt.Sprintf("random %d", i), randomMap(r, 0)) {
			written++
		}
	}
	if written < n/2 {
		t.Fatalf("the emitter wrote only %d of %d documents itself", written, n)
	}
	t.Logf("the emitter wrote %d of %d documents itself", written, n)
}

// TestEmitterGoldenObjects decodes every object of every golden file in
// the repository, as JSON values, and compares both encoders on it.
func TestEmitterGoldenObjects(t *testing.T) {
	objects := 0
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "e2e" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".yaml") || !strings.Contains(filepath.ToSlash(p), "testdata/golden") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, doc := range strings.Split(string(b), "\n---\n") {
			j, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			dec := json.NewDecoder(bytes.NewReader(j))
			dec.UseNumber()
			var m map[string]any
			if err := dec.Decode(&m); err != nil || m == nil {
				continue // not an object (an empty document)
			}
			if !sameAsGoYAML(t, fmt.Sprintf("%s document %d", p, i), m) {
				t.Errorf("%s document %d: the emitter left a golden object to go-yaml", p, i)
			}
			objects++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if objects < 100 {
		t.Fatalf("compared only %d golden objects", objects)
	}
	t.Logf("%d golden objects", objects)
}

// FuzzEmitter builds documents around the fuzzer's strings, as keys and
// values at several depths, and compares both encoders.
func FuzzEmitter(f *testing.F) {
	for _, v := range awkward {
		if s, ok := v.(string); ok {
			f.Add(s, "k")
		}
	}
	f.Fuzz(func(t *testing.T, s, k string) {
		if !utf8.ValidString(s) || !utf8.ValidString(k) {
			return // go-yaml's !!binary: left to it (TestEmitterDeclines)
		}
		for i, d := range []map[string]any{
			{k: s},
			{"a": map[string]any{k: []any{s, map[string]any{k: s, s: k}}}},
			{"l": []any{[]any{map[string]any{"x": []any{s}}}}, s: map[string]any{}},
		} {
			sameAsGoYAML(t, fmt.Sprintf("doc %d", i), d)
		}
	})
}
