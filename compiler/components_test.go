package compiler

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/ir"
)

// TestComponentsAreLowered: the IR a renderer receives carries resolved
// steps. A step's own fields win over its component's, field by field; an
// environment's override of the component reaches every step that uses it;
// steps sharing a component do not share its values.
func TestComponentsAreLowered(t *testing.T) {
	sys, diags := compileString(t, base+`
images: kiln: "reg.example/kiln:1.0"
components: {
	fetch: {
		image:   images.trainer
		command: ["fetch"]
		resources: {cpu: "1", memory: "1Gi"}
		outputs: artifacts: ["data"]
	}
	fit: training: "bert"
	ship: promote: {serving: "web", storageUri: "s3://m/v2", repository: {url: "https://git.example/r.git", credentials: secret: "git"}}
}
serving: web: model: {format: "sklearn", storageUri: "s3://m/v1"}
pipelines: p: steps: {
	a: component: "fetch"
	b: {component: "fetch", command: ["fetch", "--fast"], after: ["a"]}
	c: {component: "fit", after: ["b"]}
	d: {component: "ship", after: ["c"]}
}
environments: {
	dev: {}
	prod: overrides: components: fetch: resources: cpu: "2"
}
`, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, env := range sys.Environments {
		steps := env.Spec.Pipelines["p"].Steps
		cpu := ir.Quantity("1")
		if env.Name == "prod" {
			cpu = "2"
		}
		want := map[string]*ir.Step{
			"a": {Component: "fetch", Image: "reg.example/trainer:1.0", Command: []string{"fetch"}, Resources: &ir.Resources{CPU: cpu, Memory: "1Gi"}, Outputs: &ir.StepOutputs{Artifacts: []string{"data"}}},
			"b": {Component: "fetch", Image: "reg.example/trainer:1.0", Command: []string{"fetch", "--fast"}, After: []string{"a"}, Resources: &ir.Resources{CPU: cpu, Memory: "1Gi"}, Outputs: &ir.StepOutputs{Artifacts: []string{"data"}}},
			"c": {Component: "fit", Training: "bert", After: []string{"b"}},
			"d": {Component: "ship", After: []string{"c"}, Promote: &ir.Promote{
				Serving: "web", StorageURI: "s3://m/v2", Image: "reg.example/kiln:1.0",
				Repository: ir.PromoteGitRepo{URL: "https://git.example/r.git", Credentials: ir.SecretRef{Secret: "git"}},
			}},
		}
		for name, w := range want {
			got := *steps[name]
			// Fields the schema defaults are not what this test is about.
			got.Retry, got.Memoize, got.Timeout = w.Retry, w.Memoize, w.Timeout
			if got.Promote != nil {
				got.Promote.GitHub = false
			}
			if diff := cmp.Diff(w, &got); diff != "" {
				t.Errorf("%s: step %s (-want +got):\n%s", env.Name, name, diff)
			}
		}
		if steps["a"].Resources == steps["b"].Resources || steps["a"].Resources == env.Spec.Components["fetch"].Resources {
			t.Errorf("%s: steps share their component's resources; each needs its own copy", env.Name)
		}
	}
}
