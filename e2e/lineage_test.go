//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kiln-ml/kiln/lineage"
)

// specRepo makes the Git repository a pipeline's promote step pushes to
// (skin-lesion's derm-ml-deploy on GitHub): a bare repository whose dir
// holds a copy of the example's spec. It returns its path.
func specRepo(t *testing.T, example, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", example, "system.cue"))
	require.NoError(t, err)
	work := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(work, dir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, dir, "system.cue"), b, 0o644))
	git(t, work, "init", "--quiet", "--initial-branch=main")
	git(t, work, "add", ".")
	git(t, work, "commit", "--quiet", "-m", "spec")
	bare := filepath.Join(t.TempDir(), "deploy.git")
	git(t, work, "clone", "--quiet", "--bare", work, bare)
	return bare
}

// globalOutput is a workflow's global output parameter (globalName).
func globalOutput(wf *unstructured.Unstructured, name string) string {
	ps, _, _ := unstructured.NestedSlice(wf.Object, "status", "outputs", "parameters")
	for _, p := range ps {
		pm := p.(map[string]any)
		if pm["name"] == name {
			v, _ := pm["value"].(string)
			return v
		}
	}
	return ""
}

// readRecord reads the record at uri from the executor's copy of the
// artifact repository, checks it against the record's JSON Schema and
// decodes it as `kiln lineage` does.
func readRecord(t *testing.T, records, uri string) *lineage.Record {
	t.Helper()
	bucket, key, ok := strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
	require.True(t, ok && strings.HasPrefix(uri, "s3://"), "record URI %q", uri)
	t.Logf("record at %s (bucket %s) stored as %s", uri, bucket, key)
	b, err := os.ReadFile(filepath.Join(records, filepath.FromSlash(key)))
	require.NoError(t, err, "the lineage step's record is not where its output parameter says")
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(lineage.Schema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("record.schema.json", doc))
	schema, err := c.Compile("record.schema.json")
	require.NoError(t, err)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	assert.NoError(t, schema.Validate(v), "the record against lineage/record.schema.json")
	r, err := lineage.Decode(b)
	require.NoError(t, err, "%s", b)
	return r
}

// kilnOut runs the kiln binary under test and returns its standard
// output.
func kilnOut(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(cl.kiln, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "kiln %s\n%s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}

// chainOf runs `kiln lineage` on a spec and returns the chain of one
// environment's serving entry.
func chainOf(t *testing.T, spec, serving, env, records string) lineage.Chain {
	t.Helper()
	t.Logf("kiln lineage %s %s -e %s --records DIR:\n%s", spec, serving, env, kilnOut(t, "lineage", spec, serving, "-e", env, "--records", records))
	var out struct{ Chains []lineage.Chain }
	require.NoError(t, json.Unmarshal([]byte(kilnOut(t, "lineage", spec, serving, "-e", env, "--records", records, "-o", "json")), &out))
	require.Len(t, out.Chains, 1)
	return out.Chains[0]
}

// lineageChain checks the chain a successful retrain run leaves: its
// promote step (kiln promote, run for real) made the evaluated model
// prod's canary in the deployment repository, naming the run's record;
// its exit handler (kiln lineage record, run for real on the values
// Argo resolved) stored the record where its output parameter says; and
// `kiln lineage` on the promoted spec follows prod's canary back through
// the record to the run and the dataset it read. The InferenceService
// kiln renders from the promoted spec points at the record.
func lineageChain(t *testing.T, wf *unstructured.Unstructured, ex *executor, deploy string) {
	t.Helper()
	run := wf.GetName()
	model := ex.params["model_uri"]
	uri := globalOutput(wf, "kiln-lineage")
	require.Equal(t, "s3://acme-ml-artifacts/skin-lesion/lineage/derm-ml/skin-lesion/retrain/"+run+".json", uri,
		"the lineage step's output parameter (lineage.Key under the artifact repository's prefix)")
	rec := readRecord(t, ex.records, uri)
	assert.Equal(t, uri, rec.URI)
	assert.Equal(t, "skin-lesion", rec.System)
	assert.Equal(t, "prod", rec.Environment)
	assert.Equal(t, "retrain", rec.Pipeline)
	assert.Equal(t, run, rec.Run.Name)
	assert.Equal(t, string(wf.GetUID()), rec.Run.UID)
	assert.Equal(t, "Succeeded", rec.Run.Phase)
	assert.True(t, wf.GetCreationTimestamp().Time.Equal(rec.Run.StartedAt), "started at %s, the workflow's creationTimestamp %s", rec.Run.StartedAt, wf.GetCreationTimestamp())
	assert.Equal(t, []lineage.Dataset{{Name: "isic", URI: "s3://acme-derm/isic-2020/"}}, rec.Datasets)
	assert.Equal(t, map[string]string{"epochs": "30", "source": "s3://acme-derm/incoming/" + run + "/"}, rec.Parameters)
	assert.Equal(t, map[string]float64{"evaluate.accuracy": 0.95}, rec.Metrics)
	assert.Contains(t, rec.Models, lineage.Model{URI: model, Step: "evaluate", Output: "model_uri"})

	// The promotion: one commit on the deployment repository's main.
	clone := filepath.Join(t.TempDir(), "deploy")
	git(t, filepath.Dir(clone), "clone", "--quiet", deploy, clone)
	head := strings.TrimSpace(git(t, clone, "rev-parse", "HEAD"))
	t.Logf("deployment repository after the run:\n%s", git(t, clone, "log", "--format=%h %s", "main"))
	assert.Equal(t, "2", strings.TrimSpace(git(t, clone, "rev-list", "--count", "main")), "the promote step pushed one commit")
	require.Len(t, rec.Promotions, 1, "the promote step's --result, through the workflow's global output")
	p := rec.Promotions[0]
	assert.Equal(t, "promote", p.Step)
	assert.Equal(t, "classifier", p.Serving)
	assert.Equal(t, "prod", p.Environment)
	assert.Equal(t, model, p.ModelURI)
	if assert.NotNil(t, p.Canary) {
		assert.Equal(t, 10, *p.Canary)
	}
	assert.True(t, p.Commit != "" && strings.HasPrefix(head, p.Commit), "promotion commit %q, pushed %s", p.Commit, head)
	assert.Equal(t, p.Commit, rec.Spec.Revision, "the spec revision of the record is the commit its promotion made")

	// The chain, from the promoted spec and the copy of the bucket.
	spec := filepath.Join(clone, "skin-lesion")
	ch := chainOf(t, spec, "skin-lesion/classifier", "prod", ex.records)
	assert.Equal(t, "skin.ml.acme.example", ch.Endpoint)
	var canary *lineage.Version
	for i, v := range ch.Versions {
		if v.Track == "canary" {
			canary = &ch.Versions[i]
		}
	}
	require.NotNil(t, canary, "prod serves the promoted model as its canary: %+v", ch.Versions)
	assert.Equal(t, 10, canary.Percent)
	assert.Equal(t, model, canary.Model)
	assert.Equal(t, uri, canary.Lineage)
	assert.Empty(t, canary.Problem)
	if assert.NotNil(t, canary.Record) {
		assert.Equal(t, run, canary.Record.Run.Name)
		assert.Equal(t, rec.Datasets, canary.Record.Datasets)
	}

	// The cluster's InferenceService points back at the run.
	isvc := find(t, envObjects(t, renderSpec(t, spec), "prod", "skin-lesion"), "InferenceService", "classifier-canary")
	assert.Equal(t, uri, isvc.GetAnnotations()[lineage.Annotation])
	storage, _, _ := unstructured.NestedString(isvc.Object, "spec", "predictor", "model", "storageUri")
	assert.Equal(t, model, storage)
}
