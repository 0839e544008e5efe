package compiler

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/ir"
)

// TestApplyOverridesMergePatch holds environment overrides to JSON merge
// patch (RFC 7396): the cases of the RFC's appendix whose target and
// patch are objects, and the ones kiln's overrides rely on.
func TestApplyOverridesMergePatch(t *testing.T) {
	cases := []struct {
		name, base, patch, want string
	}{
		{"replace a value", `{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{"add a key", `{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{"null deletes", `{"a":"b"}`, `{"a":null}`, `{}`},
		{"null deletes that key only", `{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{"a scalar replaces a list", `{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{"a list replaces a scalar", `{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{"objects merge, nested null deletes", `{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{"lists replace, never merge", `{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{"a shorter list replaces", `{"a":[1,2,3]}`, `{"a":[3]}`, `{"a":[3]}`},
		{"null in the base stays", `{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{"an object replaces a scalar, its nulls dropped", `{"a":"foo"}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{"a new object, its nulls dropped", `{}`, `{"a":{"bb":{"ccc":null},"d":1}}`, `{"a":{"bb":{},"d":1}}`},
		{"an object replaces a list", `{"a":[1]}`, `{"a":{"b":null,"c":2}}`, `{"a":{"c":2}}`},
		{"nulls inside a list are values", `{"a":[1]}`, `{"a":[null,{"b":null}]}`, `{"a":[null,{"b":null}]}`},
		{"deep merge keeps siblings", `{"a":{"b":{"c":1,"d":2},"e":3}}`, `{"a":{"b":{"c":null,"f":4}}}`, `{"a":{"b":{"d":2,"f":4},"e":3}}`},
		{"null for a missing key", `{"a":1}`, `{"b":null}`, `{"a":1}`},
		{"empty patch", `{"a":{"b":1}}`, `{}`, `{"a":{"b":1}}`},
		{"an empty object merges nothing", `{"a":{"b":1}}`, `{"a":{}}`, `{"a":{"b":1}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var base, patch map[string]any
			require.NoError(t, json.Unmarshal([]byte(tc.base), &base))
			require.NoError(t, json.Unmarshal([]byte(tc.patch), &patch))
			applyOverrides(base, patch, "", "overrides", ir.Sources{})
			got, err := json.Marshal(base)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got))
			// The result never aliases the patch: changing one leaves
			// the other alone.
			before, err := json.Marshal(patch)
			require.NoError(t, err)
			scribble(base)
			after, err := json.Marshal(patch)
			require.NoError(t, err)
			assert.JSONEq(t, string(before), string(after), "the patch changed with the result")
		})
	}
}

// scribble changes every object and list below v in place.
func scribble(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			scribble(e)
			v[k+"~"] = 0
		}
	case []any:
		for i, e := range v {
			scribble(e)
			v[i] = "~"
		}
	}
}

// An override moves the positions of the values it sets: a replaced
// value is reported where the override wrote it.
func TestApplyOverridesMovesSources(t *testing.T) {
	base := map[string]any{"a": map[string]any{"b": 1.0, "c": 2.0}, "d": "x"}
	patch := map[string]any{"a": map[string]any{"b": 3.0}, "d": map[string]any{"e": 1.0}}
	src := ir.Sources{
		"a": {File: "base.cue", Line: 1}, "a.b": {File: "base.cue", Line: 2}, "a.c": {File: "base.cue", Line: 3}, "d": {File: "base.cue", Line: 4},
		"o.a.b": {File: "env.cue", Line: 10}, "o.d": {File: "env.cue", Line: 11}, "o.d.e": {File: "env.cue", Line: 12},
	}
	applyOverrides(base, patch, "", "o", src)
	assert.Equal(t, 1, src["a"].Line, "the struct stays where the base defined it")
	assert.Equal(t, 10, src["a.b"].Line)
	assert.Equal(t, 3, src["a.c"].Line)
	assert.Equal(t, 11, src["d"].Line)
	assert.Equal(t, 12, src["d.e"].Line)
}
