package pipeline

import (
	"encoding/json"
	"regexp"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	argotemplate "github.com/argoproj/argo-workflows/v3/util/template"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Argo's memoization cache accepts only these keys.
var cacheKeyRE = regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9]*$`)

// TestMemoKey resolves memoization keys with Argo's own template
// substitution and checks the cache would take them, and that different
// inputs give different keys.
func TestMemoKey(t *testing.T) {
	tmpl := wfv1.Template{Inputs: wfv1.Inputs{Parameters: []wfv1.Parameter{{Name: "item"}, {Name: "source-uri"}}}}
	key := memoKey("nightly_train", "shard", tmpl)
	resolve := func(item, uri string) string {
		// Argo substitutes in the template's JSON form.
		js, err := json.Marshal(key)
		require.NoError(t, err)
		out, err := argotemplate.Replace(string(js), map[string]string{"inputs.parameters.item": item, "inputs.parameters.source-uri": uri}, false)
		require.NoError(t, err)
		var got string
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		assert.Regexp(t, cacheKeyRE, got)
		return got
	}
	a := resolve("a", "s3://bucket/in/")
	assert.Regexp(t, `^nightly-train-shard-[0-9a-f]{40}$`, a)
	assert.Equal(t, a, resolve("a", "s3://bucket/in/"))
	assert.NotEqual(t, a, resolve("b", "s3://bucket/in/"))
	assert.NotEqual(t, a, resolve("a", "s3://bucket/other/"))
	// The separator keeps ("ab", "c") and ("a", "bc") apart.
	assert.NotEqual(t, resolve("ab", "c"), resolve("a", "bc"))

	assert.Equal(t, "retrain-ingest", memoKey("retrain", "ingest", wfv1.Template{}))
	assert.Regexp(t, cacheKeyRE, memoKey("retrain", "ingest", wfv1.Template{}))
}
