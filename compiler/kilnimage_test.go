package compiler

import (
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/ir"
)

const promoteBase = `package x

name:      "demo"
namespace: "demo-ns"
serving: web: model: {format: "sklearn", storageUri: "s3://m/v1"}
components: ship: promote: {serving: "web", storageUri: "s3://m/v2", repository: {url: "https://git.example/r.git", credentials: secret: "git"}}
pipelines: p: steps: {
	a: promote: {serving: "web", storageUri: "s3://m/v2", repository: {url: "https://git.example/r.git", credentials: secret: "git"}}
	b: component: "ship"
}
`

// TestPromoteImageMustBeNamed: kiln publishes no image, so a promote step
// runs the image the spec names (promote.image, else images.kiln), and a
// spec that names none is an error at the step, not a default nobody can
// pull.
func TestPromoteImageMustBeNamed(t *testing.T) {
	_, diags := compileString(t, promoteBase, Options{})
	for _, path := range []string{"pipelines.p.steps.a.promote", "components.ship.promote"} {
		found := false
		for _, d := range diags {
			if d.Path == path && strings.Contains(d.Msg, "make image IMAGE=") && d.Pos.Line > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("want an error at %s naming 'make image'; got:\n%v", path, diags)
		}
	}

	sys, diags := compileString(t, promoteBase+`
images: kiln: "reg.example/kiln:1.0"
environments: {
	dev: {}
	prod: overrides: images: kiln: "reg.example/kiln:1.1"
}
pipelines: p: steps: c: promote: {serving: "web", storageUri: "s3://m/v3", image: "reg.example/own:2", repository: {url: "https://git.example/r.git", credentials: secret: "git"}}
`, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]string{"dev": "reg.example/kiln:1.0", "prod": "reg.example/kiln:1.1"}
	for _, env := range sys.Environments {
		steps := env.Spec.Pipelines["p"].Steps
		for name, got := range map[string]*ir.Promote{"a": steps["a"].Promote, "ship": env.Spec.Components["ship"].Promote} {
			if got.Image != want[env.Name] {
				t.Errorf("%s: %s runs %q, want images.kiln %q", env.Name, name, got.Image, want[env.Name])
			}
		}
		if got := steps["c"].Promote.Image; got != "reg.example/own:2" {
			t.Errorf("%s: the image a step names is kept; got %q", env.Name, got)
		}
	}
}
