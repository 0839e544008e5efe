package lineage_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/lineage"
)

// TestRecordImages records the images a run built: the digest its build
// step output, and none for a build that did not finish (Argo leaves the
// output as written). A record that built none has no images field, as
// before builds existed.
func TestRecordImages(t *testing.T) {
	const digest = "sha256:9b2c6f1e4a7d3c8b5e0f2a6d9c1b4e7f0a3d6c9b2e5f8a1d4c7b0e3f6a9d2c5b"
	in := succeeded
	in.Images = []string{
		"trainer=ghcr.io/acme/derm-trainer:main@" + digest,
		"eval=localhost:5000/acme/eval:3@{{workflow.outputs.parameters.build-eval__digest}}",
	}
	r, err := lineage.Build(in)
	require.NoError(t, err)
	assert.Equal(t, []lineage.Image{
		{Name: "eval", Ref: "localhost:5000/acme/eval:3"},
		{Name: "trainer", Ref: "ghcr.io/acme/derm-trainer:main", Digest: digest},
	}, r.Images)
	b, err := r.Marshal()
	require.NoError(t, err)
	valid(t, b)

	r, err = lineage.Build(succeeded)
	require.NoError(t, err)
	b, err = r.Marshal()
	require.NoError(t, err)
	assert.NotContains(t, string(b), `"images"`)

	for _, bad := range []string{"trainer", "trainer=ghcr.io/acme/t:1", "=t@" + digest} {
		in.Images = []string{bad}
		_, err := lineage.Build(in)
		assert.Error(t, err, bad)
	}
}

// TestSchemaRefusesImages: an image without its ref, or with a digest
// that is not one, fails the schema.
func TestSchemaRefusesImages(t *testing.T) {
	in := succeeded
	in.Images = []string{"trainer=ghcr.io/acme/t:1@sha256:" + strings.Repeat("0", 64)}
	r, err := lineage.Build(in)
	require.NoError(t, err)
	good, err := r.Marshal()
	require.NoError(t, err)
	valid(t, good)
	for name, img := range map[string]map[string]any{
		"no ref":     {"name": "trainer"},
		"bad digest": {"name": "trainer", "ref": "t:1", "digest": "latest"},
		"extra":      {"name": "trainer", "ref": "t:1", "tag": "1"},
	} {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(good, &m))
			m["images"] = []any{img}
			b, err := json.Marshal(m)
			require.NoError(t, err)
			assert.False(t, validates(t, b))
		})
	}
}

// validates reports whether b satisfies the record's schema.
func validates(t *testing.T, b []byte) bool {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return validator(t).Validate(v) == nil
}
