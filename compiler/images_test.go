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

// TestBuiltImageOverrides overrides the long form of images.trainer: its
// ref by a partial override in prod (the build stays), its whole entry by
// the short form in dev (the build goes). Fields that refer to it as
// images.trainer.ref follow both; a literal with the same value does not.
func TestBuiltImageOverrides(t *testing.T) {
	const spec = `package x

name:      "demo"
namespace: "demo"
images: trainer: {
	ref: "reg.example/t:1"
	build: {
		context: "https://git.example/acme/t.git#main"
		push: secret: "push"
		security: "baseline"
	}
}
environments: {
	dev: overrides: images: trainer: "reg.example/t:dev"
	prod: overrides: images: trainer: ref: "reg.example/t:2"
	staging: {}
}
training: {
	direct: {framework: "pytorch", image: images.trainer.ref}
	literal: {framework: "pytorch", image: "reg.example/t:1"}
}
notebooks: explore: image: images.trainer.ref
`
	sys, diags := compileString(t, spec, Options{})
	if sys == nil {
		t.Fatal(diags)
	}
	want := map[string]string{"dev": "reg.example/t:dev", "prod": "reg.example/t:2", "staging": "reg.example/t:1"}
	for _, env := range sys.Environments {
		s := env.Spec
		if got := s.Images["trainer"]; got != want[env.Name] {
			t.Errorf("%s: images.trainer = %q, want %q", env.Name, got, want[env.Name])
		}
		for _, got := range []string{s.Training["direct"].Image, s.Notebooks["explore"].Image} {
			if got != want[env.Name] {
				t.Errorf("%s: image = %q, want %q", env.Name, got, want[env.Name])
			}
		}
		if got := s.Training["literal"].Image; got != "reg.example/t:1" {
			t.Errorf("%s: the literal became %q", env.Name, got)
		}
		b := s.Builds["trainer"]
		if env.Name == "dev" {
			if b != nil {
				t.Errorf("dev: the short form kept the build: %+v", b)
			}
			continue
		}
		if b == nil {
			t.Fatalf("%s: no build", env.Name)
		}
		if b.Ref != want[env.Name] || b.Dockerfile != "Dockerfile" || b.Builder == "" || b.Resources.Memory != "2Gi" || b.Push.Secret != "push" {
			t.Errorf("%s: build = %+v", env.Name, b)
		}
	}
}
