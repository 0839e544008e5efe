package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

// FuzzRenderedObjectsValidate checks kiln's central promise on arbitrary
// specs: a spec kiln accepts renders only objects the API server accepts
// (CRDs, strict core decoding, Argo's validator) whose pods meet the
// restricted profile unless their entry asked for baseline. A spec that
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
		checkRendered(t, src, res, strings.Contains(src, "baseline"))
	})
}

// checkRendered holds every object of a rendered spec to the API server's
// rules (CRDs, strict core decoding, Argo's validator) and, unless some
// entry asked for baseline, every pod to Pod Security "restricted".
func checkRendered(t *testing.T, src string, res *render.Result, baseline bool) {
	t.Helper()
	files, err := render.Files(res)
	if err != nil {
		t.Fatalf("a spec that vets cannot be written: %v", err)
	}
	docs := map[string][]byte{}
	for p, b := range files {
		// Not cluster objects: kustomize's file and a patch for Argo CD's
		// own ConfigMap.
		if strings.HasSuffix(p, "/kustomization.yaml") || strings.HasSuffix(p, "argocd-cm-health.yaml") {
			continue
		}
		docs[p] = b
	}
	for p, problems := range validatetest.CRDs(t).ValidateAll(docs) {
		t.Errorf("%s: the API server would reject it:\n  %s\nspec:\n%s", p, strings.Join(problems, "\n  "), src)
	}
	if baseline {
		return
	}
	for p, b := range docs {
		if vs := validate.RestrictedViolations(b); len(vs) > 0 {
			t.Errorf("%s: not restricted: %s\nspec:\n%s", p, strings.Join(vs, "; "), src)
		}
	}
}
