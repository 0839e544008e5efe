package compiler

import "testing"

// TestImageOverridesFollowReferences overrides images.trainer in prod and
// wants exactly the fields that refer to images.trainer changed there,
// however they refer to it (directly, through a hidden template, through
// a reference written in the override itself), and neither a field that
// names another image with the same value nor a literal with that value.
func TestImageOverridesFollowReferences(t *testing.T) {
	const spec = `package x

name:      "demo"
namespace: "demo"
images: {trainer: "reg.example/t:1", mirror: "reg.example/t:1"}
_template: {framework: "pytorch", image: images.trainer}
environments: {
	dev: {}
	prod: {
		namespace: "demo-prod"
		overrides: {
			images: trainer: "reg.example/t:2"
			training: late: image: images.trainer
		}
	}
}
training: {
	direct: {framework: "pytorch", image: images.trainer}
	templated: _template & {workers: 2}
	other: {framework: "pytorch", image: images.mirror}
	literal: {framework: "pytorch", image: "reg.example/t:1"}
	late: {framework: "pytorch", image: images.mirror}
}
pipelines: p: steps: s: image: images.trainer
`
	sys, diags := compileString(t, spec, Options{})
	if sys == nil {
		t.Fatal(diags)
	}
	want := map[string]map[string]string{
		"dev":  {"direct": "reg.example/t:1", "templated": "reg.example/t:1", "other": "reg.example/t:1", "literal": "reg.example/t:1", "late": "reg.example/t:1"},
		"prod": {"direct": "reg.example/t:2", "templated": "reg.example/t:2", "other": "reg.example/t:1", "literal": "reg.example/t:1", "late": "reg.example/t:2"},
	}
	wantStep := map[string]string{"dev": "reg.example/t:1", "prod": "reg.example/t:2"}
	for _, env := range sys.Environments {
		for name, img := range want[env.Name] {
			if got := env.Spec.Training[name].Image; got != img {
				t.Errorf("%s: training.%s.image = %q, want %q", env.Name, name, got, img)
			}
		}
		if got := env.Spec.Pipelines["p"].Steps["s"].Image; got != wantStep[env.Name] {
			t.Errorf("%s: pipelines.p.steps.s.image = %q, want %q", env.Name, got, wantStep[env.Name])
		}
	}
}
