package rendertest

import (
	"encoding/json"
	"testing"

	argotemplate "github.com/argoproj/argo-workflows/v3/util/template"
)

// Substitute returns text, a string field of a rendered Argo template
// (a resource manifest, an argument), with vars (keyed as in Argo:
// "workflow.name", "inputs.parameters.trial") put in by Argo's own
// template code, the way the workflow controller does it when a run
// starts: on the JSON encoding of the template, simple tags and
// expression tags ({{=...}}) alike. A tag vars does not resolve is left
// as it is.
func Substitute(tb testing.TB, text string, vars map[string]string) string {
	tb.Helper()
	j, err := json.Marshal(text)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := argotemplate.Replace(string(j), vars, true)
	if err != nil {
		tb.Fatalf("Argo's substitution of %v: %v", vars, err)
	}
	var s string
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		tb.Fatal(err)
	}
	return s
}
