package yamlwrite_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// fragments are the pieces nasty strings are made of: YAML indicators,
// quotes, comment and value markers, words YAML 1.1 reads as other types,
// runes outside ASCII, tabs, runs of spaces, line breaks, long words.
var fragments = []string{
	"a", "word", "x", "Zz", "k8s", "v1", "-", "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!",
	"|", ">", "'", "\"", "%", "@", "`", "\\", "/", ".", "=", "~", "<<", "+", "_", "$", "(", ")",
	": ", " #", " ", "  ", "   ", "\t", "\n", "\n\n", "\r", " \n", "\n ", "\n  ",
	"true", "y", "No", "null", "NULL", "on", ".inf", "NaN", "0", "1", "007", "0x1F", "1e3", "-1",
	"1.5", "12:30", "2026-12-07", "---", "...", "{{workflow.name}}", "{{=a ? 'b' : 'c'}}",
	"ünï", "é", "🚀", "\u2028", "\u0085", "\ufeff", "\x00", "\x7f",
	strings.Repeat("long", 12), strings.Repeat("w ", 30), strings.Repeat("y", 79),
}

// nasty returns a string of a few fragments, sometimes padded so that
// its line ends near column 80.
func nasty(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(8) {
		b.WriteString(fragments[r.IntN(len(fragments))])
	}
	if r.IntN(3) == 0 {
		for b.Len() < 60+r.IntN(30) {
			if r.IntN(4) == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteByte('a' + byte(r.IntN(26)))
			}
		}
	}
	return b.String()
}

func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(10); {
	case depth > 14 || k < 4:
		switch r.IntN(8) {
		case 0:
			return []any{nil, true, false, json.Number("1"), json.Number("-0.5"), json.Number("1e6"),
				json.Number("123456789012345678901234567890"), json.Number("3.0"), 7, 2.5}[r.IntN(10)]
		case 1:
			return fragments[r.IntN(len(fragments))]
		}
		return nasty(r)
	case k < 6:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randomValue(r, depth+1)
		}
		return l
	default:
		m := map[string]any{}
		for range r.IntN(4) {
			k := fragments[r.IntN(len(fragments))]
			if r.IntN(3) == 0 {
				k = nasty(r)
			}
			m[k] = randomValue(r, depth+1)
		}
		return m
	}
}

// TestRandomDocuments checks Append against go-yaml on random documents
// of nasty strings at varying depths (so that lines reach the folding
// width at varying columns), and that most of them are written rather
// than declined.
func TestRandomDocuments(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 80))
	n, written := 20000, 0
	if testing.Short() {
		n = 2000
	}
	for i := range n {
		m, ok := randomValue(r, 0).(map[string]any)
		if !ok {
			m = map[string]any{"v": randomValue(r, 1)}
		}
		if same(t, fmt.Sprintf("random %d", i), m) {
			written++
		}
	}
	t.Logf("%d of %d documents written", written, n)
	if written < n/10 {
		t.Errorf("only %d of %d documents written: the writer declines too much to be tested", written, n)
	}
}

// TestStrings checks single strings (as a key and as values at several
// depths) and that the common ones are written.
func TestStrings(t *testing.T) {
	for _, s := range fragments {
		doc := map[string]any{s: s, "l": []any{s, map[string]any{"m": s}, []any{s}}}
		same(t, fmt.Sprintf("%q", s), doc)
	}
	for _, s := range []string{
		"model-0042", "ghcr.io/kiln-ml/trainer:v1.2.3", "16Gi", "4", "500m", "true", "",
		"{{inputs.parameters.model}}", "app.kubernetes.io/name", "http://minio:9000/bucket",
		"python -m train --epochs 3", "#!/bin/sh\nset -eu\necho \"done: $1\"\n", "a: b",
	} {
		if !same(t, fmt.Sprintf("%q", s), map[string]any{"k": s, "l": []any{s}}) {
			t.Errorf("%q declined", s)
		}
	}
}

// FuzzAppend checks that Append writes what go-yaml writes, or declines:
// s gives the strings (split at '|': keys and values), shape the nesting
// they sit in.
func FuzzAppend(f *testing.F) {
	f.Add("a|b: c|'q'|#x", uint64(0))
	f.Add("word word word word word word word word word word word word word word", uint64(0x1b))
	f.Add("x\ny\n|  z|-", uint64(0xe4e4))
	f.Add("true|16Gi|{{a}}|1e3", uint64(7))
	f.Fuzz(func(t *testing.T, s string, shape uint64) {
		parts := strings.Split(s, "|")
		var v any = parts[len(parts)-1]
		for i := 0; i < 12 && shape != 0; i++ {
			p := parts[i%len(parts)]
			switch shape & 3 {
			case 0:
				v = map[string]any{p: v, "z": p}
			case 1:
				v = []any{v, p}
			case 2:
				v = []any{map[string]any{"k": v, p: p}}
			case 3:
				v = map[string]any{"k": []any{p, v}}
			}
			shape >>= 2
		}
		m, ok := v.(map[string]any)
		if !ok {
			m = map[string]any{"v": v}
		}
		same(t, "fuzz", m)
	})
}
