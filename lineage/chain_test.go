package lineage_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/lineage"
)

func TestSourceRead(t *testing.T) {
	r, err := lineage.Build(succeeded)
	require.NoError(t, err)
	b, err := r.Marshal()
	require.NoError(t, err)
	dir := t.TempDir()
	key := "skin-lesion/lineage/derm-ml/skin-lesion/retrain/retrain-x7k2p.json"
	require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(key)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, key), b, 0o644))

	// s3:// and gs:// from the copy of the bucket, file:// where it is.
	for _, uri := range []string{"s3://acme-ml-artifacts/" + key, "gs://acme-ml-artifacts/" + key, "file://" + filepath.ToSlash(filepath.Join(dir, key))} {
		got, err := lineage.Source{Dir: dir}.Read(t.Context(), uri)
		if assert.NoError(t, err, uri) {
			assert.Equal(t, r, got, uri)
		}
	}
	_, err = lineage.Source{}.Read(t.Context(), "s3://acme-ml-artifacts/"+key)
	assert.ErrorIs(t, err, lineage.ErrNoStore)
	_, err = lineage.Source{Dir: dir}.Read(t.Context(), "s3://acme-ml-artifacts/lineage/none.json")
	assert.ErrorContains(t, err, "no record at")
	_, err = lineage.Source{Dir: dir}.Read(t.Context(), "ftp://x/y.json")
	assert.Error(t, err)
}

func TestDecodeRefuses(t *testing.T) {
	for name, b := range map[string]string{
		"other version": `{"apiVersion":"kiln.dev/lineage/v2","kind":"LineageRecord"}`,
		"other kind":    `{"apiVersion":"kiln.dev/lineage/v1","kind":"Other"}`,
		"unknown field": `{"apiVersion":"kiln.dev/lineage/v1","kind":"LineageRecord","extra":1}`,
		"not json":      `{`,
	} {
		_, err := lineage.Decode([]byte(b))
		assert.Error(t, err, name)
	}
}
