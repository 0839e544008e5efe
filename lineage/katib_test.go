package lineage_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/lineage"
)

// TestKatibRecord builds the record of a finished Katib Experiment from
// the Experiment and its Trials as kubectl prints them, and holds it to
// the schema and to testdata/katib.json.
func TestKatibRecord(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "katib", "experiment-and-trials.json"))
	require.NoError(t, err)
	in := lineage.Inputs{
		System: "fraud-detect", Namespace: "risk-ml", Environment: "prod",
		Datasets: []string{"transactions=gs://acme-risk/transactions/"},
		URI:      "gs://acme-risk-artifacts/lineage/risk-ml/fraud-detect/xgb-tune/xgb-tune-3c1f9a2e.json",
	}
	require.NoError(t, lineage.KatibInputs(b, &in))
	assert.Equal(t, "xgb-tune", in.Sweep, "the sweep is kiln's label on the Experiment")
	assert.Equal(t, "xgb-tune-3c1f9a2e", in.RunName)
	assert.Equal(t, time.Date(2026, 12, 7, 1, 14, 52, 0, time.UTC), in.Finished)
	r, err := lineage.Build(in)
	require.NoError(t, err)
	assert.Equal(t, "Succeeded", r.Run.Phase)
	assert.Equal(t, "bayesianoptimization", r.Sweep.Algorithm)
	assert.Equal(t, lineage.Objective{Metric: "auc", Goal: "maximize"}, r.Sweep.Objective)
	assert.Equal(t, "xgb-tune-3c1f9a2e-8kq2m7vd", r.Sweep.Best)
	require.Len(t, r.Sweep.Trials, 3)
	assert.Equal(t, "Failed", r.Sweep.Trials[1].Status)
	assert.Empty(t, r.Sweep.Trials[1].Metrics)
	// Each metric as the Experiment's strategy for it says: auc's latest,
	// logloss's min.
	assert.Equal(t, map[string]float64{"auc": 0.9412, "logloss": 0.22}, r.Sweep.Trials[2].Metrics)
	assert.Equal(t, map[string]string{"max_depth": "7", "eta": "0.0841"}, r.Parameters)

	out, err := r.Marshal()
	require.NoError(t, err)
	valid(t, out)
	golden := filepath.Join("testdata", "katib.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, out, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out))
}

func TestKatibInputsRefuse(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":                `{`,
		"no experiment":           `{"kind":"List","items":[{"kind":"Trial","metadata":{"name":"t"}}]}`,
		"two":                     `{"kind":"List","items":[{"kind":"Experiment","metadata":{"name":"a"}},{"kind":"Experiment","metadata":{"name":"b"}}]}`,
		"best without its trials": `{"kind":"Experiment","metadata":{"name":"a"},"status":{"currentOptimalTrial":{"bestTrialName":"a-1"}}}`,
	} {
		var in lineage.Inputs
		assert.Error(t, lineage.KatibInputs([]byte(doc), &in), name)
	}
	// An Experiment that has just started: no trials yet, no best.
	in := lineage.Inputs{System: "s", Namespace: "n", Environment: "e"}
	require.NoError(t, lineage.KatibInputs([]byte(`{"kind":"Experiment","metadata":{"name":"a"},"spec":{"objective":{"type":"minimize","objectiveMetricName":"loss"},"algorithm":{"algorithmName":"random"}},"status":{"conditions":[{"type":"Running","status":"True"}]}}`), &in))
	r, err := lineage.Build(in)
	require.NoError(t, err)
	assert.Equal(t, "Unknown", r.Run.Phase)
	assert.Empty(t, r.Sweep.Trials)
	assert.Equal(t, "a", r.Sweep.Name, "no kiln label: the Experiment's name")
}
