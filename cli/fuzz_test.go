package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

// FuzzRenderedObjectsValidate checks kiln's central promise on arbitrary
// specs: a spec kiln accepts renders only objects the API server accepts
// (CRDs, strict core decoding, Argo's validator) whose pods meet the Pod
// Security level their namespace enforces, and restricted unless their
// entry asked for baseline: what `kiln check` holds them to. A spec that
// would render anything else must be reported as an error instead.
func FuzzRenderedObjectsValidate(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "examples", "skin-lesion", "system.cue"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	f.Add(`package t
name: "demo"
namespace: "demo"
environments: dev: gpu: quota: 8
training: bert: {framework: "tensorflow", image: "t:1", workers: 3, parameterServers: 1, resources: gpus: 1}
serving: web: {runtime: "tfserving", model: {format: "tensorflow", storageUri: "gs://m/1"}, canary: {storageUri: "gs://m/2", percent: 20}, replicas: {min: 1, max: 3}}
`)
	f.Add(`package t
name: "demo"
namespace: "demo"
training: gbm: {framework: "xgboost", image: "t:1", workers: 2}
sweeps: tune: {trial: "gbm", objective: {metric: "auc", goal: "maximize"}, algorithm: "random", parameters: {eta: {min: 0.01, max: 0.3, scale: "log"}, depth: {min: 3, max: 9}}, maxTrials: 5, parallel: 2}
`)
	// Load the CRDs once, before fuzzing: every input must finish within
	// the fuzzing engine's 10 s deadline, and loading them takes a good
	// part of that on a busy machine.
	validatetest.CRDs(f)
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		// The example imports the schema by its module path; a spec
		// outside kiln's module gets the embedded schema from the
		// compiler, so any import of it resolves.
		if err := os.WriteFile(filepath.Join(dir, "system.cue"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		res, diags, err := build(context.Background(), dir, nil)
		if err != nil || diags.HasErrors() || res == nil {
			return // reported: that is allowed
		}
		checkRendered(t, src, res)
	})
}

// checkRendered holds every object of a rendered spec to what `kiln
// check` holds it to (checkObjects): the API server's rules (CRDs, strict
// core decoding, Argo's validator) and Pod Security as each object's
// namespace enforces it, with the containers the controllers add. Whether
// an object's pods are exempt from restricted is decided per object, as
// the product decides it, not for the whole spec. Every kind must have
// its CRD.
func checkRendered(t *testing.T, src string, res *render.Result) {
	t.Helper()
	files, err := render.Files(res)
	if err != nil {
		t.Fatalf("a spec that vets cannot be written: %v", err)
	}
	diags, _, skipped := checkObjects(res, files, validatetest.CRDs(t))
	for _, d := range diags {
		if d.Severity == diag.Error {
			t.Errorf("kiln check would fail: %s\nspec:\n%s", d, src)
		}
	}
	if skipped > 0 {
		t.Errorf("%d object(s) not validated for want of a CRD\nspec:\n%s", skipped, src)
	}
}
