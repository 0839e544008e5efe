package yamlwrite

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	goyaml "go.yaml.in/yaml/v2"
)

// The strings and numbers whose style go-yaml decides are written by
// go-yaml once each and the text cached: a system repeats a few of them
// ("4", "16Gi", "true", 0.5) many times.
var (
	strings_ sync.Map // string -> answer
	values   sync.Map // json.Number or a Go number -> answer
	cached   atomic.Int64
)

// maxCached bounds the caches; past it answers are computed every time.
const maxCached = 1 << 16

type answer struct {
	text string
	ok   bool
}

func remember(m *sync.Map, k any, a answer) {
	if cached.Load() < maxCached {
		if _, loaded := m.LoadOrStore(k, a); !loaded {
			cached.Add(1)
		}
	}
}

// oracleString returns s as go-yaml writes it, as a map key and as a
// value (it declines a string written differently as the two, or on more
// than one line).
func oracleString(s string) (string, bool) {
	if a, ok := strings_.Load(s); ok {
		return a.(answer).text, a.(answer).ok
	}
	var a answer
	b, err := goyaml.Marshal(goyaml.MapSlice{{Key: s, Value: s}})
	if err == nil && len(b) >= 5 && (len(b)-3)%2 == 0 {
		n := (len(b) - 3) / 2
		y := string(b)
		if y[n:n+2] == ": " && y[len(y)-1] == '\n' && y[:n] == y[n+2:len(y)-1] &&
			!strings.Contains(y[:n], "\n") {
			a = answer{y[:n], true}
		}
	}
	remember(&strings_, strings.Clone(s), a) // s may be a slice of a document's text
	return a.text, a.ok
}

// oracleValue returns a number as go-yaml writes it: a json.Number as
// go-yaml writes what its parser reads from the literal.
func oracleValue(v any) (string, bool) {
	if f, ok := v.(float64); ok && f != f {
		return "", false // NaN is no cache key
	}
	if f, ok := v.(float32); ok && f != f {
		return "", false
	}
	if a, ok := values.Load(v); ok {
		return a.(answer).text, a.(answer).ok
	}
	var a answer
	x := v
	if n, ok := v.(json.Number); ok {
		x = nil
		if err := goyaml.Unmarshal([]byte(n), &x); err != nil {
			x = nil
		}
	}
	switch x.(type) {
	case nil, string, bool:
		// Not read as a number: declined, left to go-yaml.
	default:
		b, err := goyaml.Marshal(goyaml.MapSlice{{Key: "k", Value: x}})
		y := string(b)
		if err == nil && strings.HasPrefix(y, "k: ") && strings.Count(y, "\n") == 1 &&
			strings.HasSuffix(y, "\n") && len(y) > 4 {
			a = answer{y[3 : len(y)-1], true}
		}
	}
	remember(&values, v, a)
	return a.text, a.ok
}
