package lineage_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/ir"
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

// memStore is a bucket in memory that counts what it is asked.
type memStore struct {
	objects map[string][]byte
	lists   []string
}

func (m *memStore) Get(_ context.Context, key string) ([]byte, error) {
	b, ok := m.objects[key]
	if !ok {
		return nil, fmt.Errorf("mem://%s: %w", key, fs.ErrNotExist)
	}
	return b, nil
}

func (m *memStore) List(_ context.Context, prefix string) ([]string, error) {
	m.lists = append(m.lists, prefix)
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// record is the stored form of a run's record built from in.
func record(t *testing.T, in lineage.Inputs) []byte {
	t.Helper()
	r, err := lineage.Build(in)
	require.NoError(t, err)
	b, err := r.Marshal()
	require.NoError(t, err)
	return b
}

// TestTraceFromBucket reads the records a spec names from the bucket,
// and with search finds the newest run that produced a model the spec
// names none for, listing the environment's records once.
func TestTraceFromBucket(t *testing.T) {
	older, newer := succeeded, succeeded
	older.RunName, older.Finished, older.Promotions = "retrain-old", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), nil
	older.Outputs = []string{"evaluate.model_uri=s3://acme-models/skin/v7"}
	newer.RunName, newer.Finished, newer.Promotions = "retrain-new", time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), nil
	newer.Outputs = []string{"evaluate.model_uri=s3://acme-models/skin/v7"}
	dir := "skin-lesion/lineage/derm-ml/skin-lesion/"
	st := &memStore{objects: map[string][]byte{
		dir + "retrain/retrain-x7k2p.json": record(t, succeeded),
		dir + "retrain/retrain-old.json":   record(t, older),
		dir + "retrain/retrain-new.json":   record(t, newer),
		dir + "resnet-tune/sweep-1.json":   record(t, sweepRun),
		dir + "retrain/notes.txt":          []byte("not a record"),
	}}
	var opened []string
	src := lineage.Source{Bucket: func(_ context.Context, scheme, bucket string) (lineage.Store, error) {
		opened = append(opened, scheme+"://"+bucket)
		return st, nil
	}}
	env := &ir.Environment{Name: "prod", Namespace: "derm-ml", Spec: &ir.Spec{
		Artifacts: &ir.ArtifactRepository{S3: &ir.S3Repository{Bucket: "acme-ml-artifacts", KeyPrefix: "skin-lesion"}},
		Serving: map[string]*ir.Serving{
			"classifier": {Model: ir.ServingModel{StorageURI: "s3://acme-models/skin/v7"}, Canary: &ir.Canary{StorageURI: "s3://acme-models/skin/v9", Percent: 10, Lineage: succeeded.URI}},
			"triage":     {Model: ir.ServingModel{StorageURI: "s3://acme-models/triage/v1"}},
			"tuned":      {Model: ir.ServingModel{StorageURI: "s3://acme-models/skin/tune-5e0c7d2a91"}},
		},
	}}
	sys := &ir.System{Name: "skin-lesion", Environments: []*ir.Environment{env}}

	chains := lineage.Trace(t.Context(), sys, "", src, false)
	require.Len(t, chains, 3)
	assert.Nil(t, chains[0].Versions[0].Record, "without search, no record for v7")
	require.NotNil(t, chains[0].Versions[1].Record)
	assert.Equal(t, "retrain-x7k2p", chains[0].Versions[1].Record.Run.Name)
	assert.Empty(t, st.lists)

	chains = lineage.Trace(t.Context(), sys, "", src, true)
	v7 := chains[0].Versions[0]
	require.NotNil(t, v7.Record)
	assert.True(t, v7.Found)
	assert.Equal(t, "s3://acme-ml-artifacts/"+dir+"retrain/retrain-new.json", v7.Lineage, "the newest run that produced it")
	assert.False(t, chains[0].Versions[1].Found)
	assert.Nil(t, chains[1].Versions[0].Record, "no run produced triage/v1")
	assert.Empty(t, chains[1].Versions[0].Problem)
	// A model a sweep's best trial produced is found in the sweep's record.
	require.Len(t, chains, 3)
	require.NotNil(t, chains[2].Versions[0].Record)
	assert.Equal(t, "s3://acme-ml-artifacts/"+dir+"resnet-tune/sweep-1.json", chains[2].Versions[0].Lineage)
	assert.Equal(t, "sweep resnet-tune", chains[2].Versions[0].Record.Of())
	assert.Equal(t, []string{dir}, st.lists, "listed once per environment")
	assert.Contains(t, opened, "s3://acme-ml-artifacts")

	var b strings.Builder
	require.NoError(t, lineage.Write(&b, chains[:1], "text"))
	assert.Contains(t, b.String(), "record   s3://acme-ml-artifacts/"+dir+"retrain/retrain-new.json (found: the newest run that produced the model; the spec names none)\n")

	// An environment without an artifact repository has nowhere to look.
	env.Spec.Artifacts = nil
	chains = lineage.Trace(t.Context(), sys, "triage", src, true)
	assert.Contains(t, chains[0].Versions[0].Problem, "environment prod has no artifact repository")
	b.Reset()
	require.NoError(t, lineage.Write(&b, chains, "text"))
	assert.Contains(t, b.String(), "no lineage record named, and none found: environment prod has no artifact repository")
}

// TestSweepRecordText: a sweep's record reads as the run of a sweep,
// with its search summed up.
func TestSweepRecordText(t *testing.T) {
	r, err := lineage.Build(sweepRun)
	require.NoError(t, err)
	chains := []lineage.Chain{{Environment: "prod", System: "skin-lesion", Serving: "classifier", Endpoint: "skin.ml.acme.example",
		Versions: []lineage.Version{{Track: "stable", Percent: 100, Model: "s3://acme-models/skin/v10", Lineage: sweepRun.URI, Record: r}}}}
	var b strings.Builder
	require.NoError(t, lineage.Write(&b, chains, "text"))
	assert.Contains(t, b.String(), "    run      resnet-tune-4wq9z of sweep resnet-tune, Succeeded, 2026-12-07 03:00 to 2026-12-07 07:12 UTC\n")
	assert.Contains(t, b.String(), "    search   sobol, maximize val_accuracy, 3 trials (2 succeeded), best 5e0c7d2a91: target reached by trial 5e0c7d2a91\n")
	assert.Contains(t, b.String(), "    params   batch=64 lr=0.00316\n")
	b.Reset()
	require.NoError(t, lineage.Write(&b, chains, "mermaid"))
	assert.Contains(t, b.String(), `["run resnet-tune-4wq9z<br/>sweep resnet-tune, Succeeded"]`)
}
