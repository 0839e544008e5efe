package explain

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

const spec = `package x

name:      "demo"
namespace: "demo"
images: trainer: "ghcr.io/acme/t:1"
environments: {
	dev: overrides: training: t: workers: 2
	prod: overrides: images: trainer: "ghcr.io/acme/t:2"
}
training: t: {framework: "pytorch", image: images.trainer, workers: 1}
components: fetch: {image: "ghcr.io/acme/tools:1", command: ["fetch"]}
pipelines: p: {
	environments: ["dev"]
	steps: a: {component: "fetch", command: ["fetch", "--fast"]}
}
`

func compile(t *testing.T) *ir.System {
	t.Helper()
	sys, diags := compiler.Compile(context.Background(), "/virtual/spec", compiler.Options{
		Overlay: map[string][]byte{"spec.cue": []byte(spec)},
		Cwd:     "/virtual",
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return sys
}

func pos(line, col int) diag.Pos { return diag.Pos{File: "spec/spec.cue", Line: line, Col: col} }

// Each environment's value and where it was set: the base, an override, an
// override of images.X applied by value, a component, the schema.
func TestPath(t *testing.T) {
	sys := compile(t)
	tests := []struct {
		path string
		want []Line
	}{
		{"training.t.workers", []Line{
			{Environment: "dev", Value: []byte(`2`), Pos: pos(7, 40), From: "override environments.dev.overrides.training.t.workers"},
			{Environment: "prod", Value: []byte(`1`), Pos: pos(10, 69), From: "base"},
		}},
		{"training.t.image", []Line{
			{Environment: "dev", Value: []byte(`"ghcr.io/acme/t:1"`), Pos: pos(10, 44), From: "base"},
			{Environment: "prod", Value: []byte(`"ghcr.io/acme/t:2"`), Pos: pos(8, 36), From: "override environments.prod.overrides.images.trainer (by value)"},
		}},
		{"training.t.runPolicy.suspend", []Line{
			{Environment: "dev", Value: []byte(`false`), From: "default (the schema's; not written in the spec)"},
			{Environment: "prod", Value: []byte(`false`), From: "default (the schema's; not written in the spec)"},
		}},
		{"pipelines.p.steps.a.image", []Line{
			{Environment: "dev", Value: []byte(`"ghcr.io/acme/tools:1"`), Pos: pos(11, 28), From: "component: components.fetch.image"},
			{Environment: "prod", From: "not in this environment"},
		}},
		{"pipelines.p.steps.a.command", []Line{
			{Environment: "dev", Value: []byte(`["fetch","--fast"]`), Pos: pos(14, 42), From: "base"},
			{Environment: "prod", From: "not in this environment"},
		}},
		// Paths under environments are the same everywhere: one line.
		{"environments.dev.namespace", []Line{
			{Value: []byte(`"demo"`), From: "default (the schema's; not written in the spec)"},
		}},
	}
	for _, tt := range tests {
		ex, err := Path(sys, tt.path)
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if diff := cmp.Diff(&Explanation{Path: tt.path, Lines: tt.want}, ex); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.path, diff)
		}
	}
}

func TestNoValue(t *testing.T) {
	sys := compile(t)
	for path, want := range map[string]string{
		"training.t.worker":    "no value in any environment (dev, prod): not set (training.t has ",
		"training.nope.image":  "no value in any environment (dev, prod): no such entry",
		"environments.qa.sync": "no value: not in this environment",
	} {
		_, err := Path(sys, path)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want one starting %q", path, err, want)
		}
	}
}

func TestSplitPath(t *testing.T) {
	got, err := SplitPath(`environments.dev.patches."archive-logs".target`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"environments", "dev", "patches", "archive-logs", "target"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", `training."t`} {
		if _, err := SplitPath(bad); err == nil {
			t.Errorf("SplitPath(%q): no error", bad)
		}
	}
}

// Text: a column per field; a value longer than a line follows below.
func TestWriteText(t *testing.T) {
	ex := &Explanation{Path: "serving.web.model", Lines: []Line{
		{Environment: "dev", Value: []byte(`1`), Pos: pos(3, 4), From: "base"},
		{Environment: "prod", Value: []byte(`{"format":"sklearn","storageUri":"s3://models/web/v1"}`), Pos: pos(5, 6), From: "override environments.prod.overrides.serving.web.model"},
	}}
	var b strings.Builder
	if err := ex.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `serving.web.model
  dev   1        spec/spec.cue:3:4  base
  prod  (below)  spec/spec.cue:5:6  override environments.prod.overrides.serving.web.model
  prod:
    {
      "format": "sklearn",
      "storageUri": "s3://models/web/v1"
    }
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
