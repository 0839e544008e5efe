package compiler

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// splitTaken reports whether the spec in dir (with overlay) is evaluated
// the split way: it is data and both steps succeed.
func splitTaken(t *testing.T, dir string, overlay map[string][]byte) bool {
	t.Helper()
	specInst, _, err := loadInstances(dir, overlay)
	if err != nil {
		t.Fatal(err)
	}
	if specInst.Err != nil || !dataLike(specInst) {
		return false
	}
	c := &compilation{dir: dir}
	_, _, _, ok := c.splitEvaluate(context.Background(), specInst)
	return ok
}

// bothWays compiles the spec each way and fails the test when the IR or
// the diagnostics differ.
func bothWays(t *testing.T, dir string, opts Options) (*ir.System, diag.List) {
	t.Helper()
	split, splitDiags := compile(context.Background(), dir, opts, 0)
	one, oneDiags := compile(context.Background(), dir, opts, -1)
	if !reflect.DeepEqual(splitDiags, oneDiags) {
		t.Errorf("%s: diagnostics differ\nsplit:\n%v\none value:\n%v", dir, splitDiags, oneDiags)
	}
	if !reflect.DeepEqual(split, one) {
		t.Errorf("%s: the IR differs between split evaluation and one value", dir)
	}
	return split, splitDiags
}

// synthSpec is a system of n models shaped like bench's synthetic
// systems (training jobs with GPUs, pipelines running them, sweeps,
// served models with a canary), with overrides in a second environment.
func synthSpec(n int) string {
	var s strings.Builder
	s.WriteString(`package synth

import "github.com/kiln-ml/kiln/schema"

schema.#System & {
	name:      "synth"
	namespace: "synth-ml"
	environments: {
		dev: gpu: quota: 64
		prod: {
			production: true
			gpu: quota: 64
			overrides: training: "job-1": workers: 3
			overrides: images: trainer: "registry.example/trainer:2.0"
		}
	}
	images: {
		trainer: "registry.example/trainer:1.0"
		tools:   "registry.example/tools:1.0"
	}
`)
	for i := range n {
		fmt.Fprintf(&s, "\ttraining: \"job-%d\": {framework: \"pytorch\", image: images.trainer, command: [\"torchrun\", \"train.py\"], workers: %d, resources: {gpus: %d, cpu: \"4\", memory: \"16Gi\"}, args: {lr: 0.001, batch: 64, epochs: %d}}\n", i, 2+i%3, 1+i%2, 10+i)
		fmt.Fprintf(&s, "\tpipelines: \"retrain-%d\": steps: {\n\t\tprep: {image: images.tools, command: [\"prep\", \"--model\", \"%d\"], resources: {cpu: \"1\", memory: \"2Gi\"}}\n\t\ttrain: {after: [\"prep\"], training: \"job-%d\"}\n\t}\n", i, i, i)
		fmt.Fprintf(&s, "\tsweeps: \"tune-%d\": {trial: \"job-%d\", objective: {metric: \"val_accuracy\", goal: \"maximize\"}, algorithm: \"random\", parameters: lr: {min: 1e-4, max: 1e-1, scale: \"log\"}, maxTrials: 8, parallel: 2}\n", i, i)
		fmt.Fprintf(&s, "\tserving: \"model-%d\": {model: {format: \"pytorch\", storageUri: \"s3://models/m%d/v1\"}, canary: {storageUri: \"s3://models/m%d/v2\", percent: 10}, replicas: {min: 1, max: 3}, resources: {gpus: 1, cpu: \"2\", memory: \"8Gi\"}}\n", i, i, i)
	}
	s.WriteString("}\n")
	return s.String()
}

// TestSplitEvaluationExportsTheSame holds split evaluation to its
// promise: every spec of the repository (the examples, the renderers'
// specs, the broken specs, and a generated system with more entries than
// a chunk holds) compiles to the same IR and diagnostics both ways, and
// the specs that are data are evaluated the split way.
func TestSplitEvaluationExportsTheSame(t *testing.T) {
	var dirs []string
	for _, pattern := range []string{"../examples/*", "../render/*/testdata/specs/*", "../e2e/testdata/*", "../testdata/broken/*"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range m {
			if cue, _ := filepath.Glob(filepath.Join(d, "*.cue")); len(cue) > 0 {
				dirs = append(dirs, d)
			}
		}
	}
	if len(dirs) < 40 {
		t.Fatalf("found %d spec directories: the globs are stale", len(dirs))
	}
	taken := 0
	for _, dir := range dirs {
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			bothWays(t, dir, Options{})
			if splitTaken(t, dir, nil) {
				taken++
			}
		})
	}
	// Most broken specs fail a check of the schema (and so go the one
	// way), but the examples and the renderers' specs are data.
	t.Logf("split evaluation taken for %d of %d specs", taken, len(dirs))
	if taken < 10 {
		t.Errorf("split evaluation taken for %d of %d specs, want at least 10", taken, len(dirs))
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "system.cue"), []byte(synthSpec(3*chunkEntries/2)), 0o644); err != nil {
		t.Fatal(err)
	}
	if !splitTaken(t, dir, nil) {
		t.Fatal("the generated system is not evaluated the split way")
	}
	sys, diags := bothWays(t, dir, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	// Defaults the schema fills in arrive in every chunk's entries.
	for _, env := range sys.Environments {
		for name, sw := range env.Spec.Sweeps {
			if sw.Backend == "" {
				t.Errorf("%s: sweeps.%s: no backend: the schema's default was lost", env.Name, name)
			}
		}
	}
}

// TestSplitEvaluationFallsBack: a spec that is data but not valid, or
// that reads a value only the schema supplies, goes the one way, which
// reports errors as before and reads defaults through references.
func TestSplitEvaluationFallsBack(t *testing.T) {
	for name, src := range map[string]string{
		"unknown field": base + "training: bert: wokers: 2\n",
		"wrong type":    base + "training: bert: workers: \"two\"\n",
		"missing name":  strings.Replace(base, `name:      "demo"`, "", 1),
		// `backend` is the schema's default: not there without it.
		"reads a default": base + `sweeps: tune: {trial: "bert", objective: {metric: "acc", goal: "maximize"}, algorithm: "random", parameters: lr: {min: 0.1, max: 1}}
labels: backend: sweeps.tune.backend
`,
	} {
		t.Run(name, func(t *testing.T) {
			overlay := map[string][]byte{"spec.cue": []byte(src)}
			if splitTaken(t, "/virtual/spec", overlay) {
				t.Fatal("split evaluation taken")
			}
			_, diags := bothWays(t, "/virtual/spec", Options{Overlay: overlay, Cwd: "/virtual"})
			if name == "reads a default" && diags.HasErrors() {
				t.Fatalf("the one way reads the default: %v", diags)
			}
			if name != "reads a default" && !diags.HasErrors() {
				t.Fatal("no error")
			}
		})
	}
}

// TestDataLike: what split evaluation takes for data, and what not.
func TestDataLike(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`a: 1, b: "x", c: [1, 2], d: {e: true, f: null}`, true},
		{`a: -1, b: 2.5e-3, c: a + 1, d: "\(b)-x", e: c * 2`, true},
		{`images: t: "r/t:1", training: j: image: images.t`, true},
		{`let x = 3
a: x`, true},
		{`#T: {image: "x"}
a: #T & {workers: 2}`, true},
		{`a: {b: 1} & {c: 2}`, true},
		{`a: [1, 2][0]`, true},
		{`#Policy: gpusPerJob: <=8`, true},
		{`a: *1 | int`, false},
		{`a: 1 | 2`, false},
		{`a: >=1`, false},
		{`a: int`, true}, // an identifier: incomplete, step 1 fails
		{`a?: 1`, false},
		{`a!: 1`, false},
		{`[string]: 1`, false},
		{`a: [...int]`, false},
		{`a: {for k in ["x"] {(k): 1}}`, false},
		{`if true {a: 1}`, false},
		{`a: len("x")`, false},
		{`a: _|_`, false},
		{`a: !true`, false},
		{`a: 1 == 1`, false},
		{`(x): 1
x: "k"`, false},
		{`#T: {a: *1 | int}`, false},
	} {
		f, err := parser.ParseFile("spec.cue", "package x\n"+tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		got := dataFiles([]*ast.File{f})
		if got != tc.want {
			t.Errorf("%s: data = %v, want %v", tc.src, got, tc.want)
		}
	}
}

// TestCheckPartsRemembersEntries: an entry that an earlier environment's
// overrides made the same is not checked again, and comes out the same.
func TestCheckPartsRemembersEntries(t *testing.T) {
	c := &compilation{split: true}
	parts := map[string]json.RawMessage{
		"name":      json.RawMessage(`"demo"`),
		"namespace": json.RawMessage(`"demo-ns"`),
		"training": json.RawMessage(`{"a":{"framework":"pytorch","image":"r/t:2","resources":{"gpus":1}},` +
			`"b":{"framework":"pytorch","image":"r/t:2"}}`),
	}
	first, chunks, ok := c.checkParts(context.Background(), parts, true)
	if !ok || chunks != 2 {
		t.Fatalf("first check: ok %v, %d chunks, want 2 (the entries and the rest)", ok, chunks)
	}
	var training map[string]map[string]any
	if err := json.Unmarshal(first["training"], &training); err != nil {
		t.Fatal(err)
	}
	if training["b"]["workers"] == nil {
		t.Fatalf("training.b: no workers: the schema's defaults were not filled in: %v", training["b"])
	}
	again, chunks, ok := c.checkParts(context.Background(), parts, true)
	if !ok || chunks != 1 {
		t.Fatalf("second check: ok %v, %d chunks, want 1 (the rest: the entries are remembered)", ok, chunks)
	}
	if !reflect.DeepEqual(first, again) {
		t.Errorf("remembered entries differ:\n%s\n%s", first["training"], again["training"])
	}
	// An entry that is not valid fails the check, remembered or not.
	parts["training"] = json.RawMessage(`{"a":{"framework":"pytorch","image":"r/t:2","resources":{"gpus":1}},"c":{"framework":"pytorch","wokers":2}}`)
	if _, _, ok := c.checkParts(context.Background(), parts, true); ok {
		t.Error("an unknown field passed the check")
	}
}

// TestSplitEvaluationOfImportedPackages: a spec that imports packages of
// its module is data when they are, and they are evaluated without the
// schema too; a package that is not data sends the spec the one way.
func TestSplitEvaluationOfImportedPackages(t *testing.T) {
	for _, tc := range []struct {
		name, shared string
		split        bool
	}{
		{"data", `images: trainer: "registry.example/trainer:1.0"`, true},
		{"a default", `images: trainer: *"registry.example/trainer:1.0" | string`, false},
		{"the schema", `import "github.com/kiln-ml/kiln/schema"

#Job: schema.#Training & {framework: "pytorch", image: images.trainer}
images: trainer: "registry.example/trainer:1.0"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range map[string]string{
				"cue.mod/module.cue": "module: \"example.com/ml@v0\"\nlanguage: version: \"v0.17.0\"\n",
				"shared/shared.cue":  "package shared\n\n" + tc.shared + "\n",
				"sys/system.cue": `package sys

import (
	"github.com/kiln-ml/kiln/schema"
	"example.com/ml/shared"
)

schema.#System & {
	name:      "demo"
	namespace: "demo-ns"
	environments: prod: overrides: training: bert: workers: 2
	training: bert: {
		framework: "pytorch"
		image:     shared.images.trainer
		resources: gpus: 1
	}
}
`,
			} {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sys := filepath.Join(dir, "sys")
			if got := splitTaken(t, sys, nil); got != tc.split {
				t.Errorf("split evaluation taken: %v, want %v", got, tc.split)
			}
			got, diags := bothWays(t, sys, Options{})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if img := got.Environments[0].Spec.Training["bert"].Image; img != "registry.example/trainer:1.0" {
				t.Errorf("image %q", img)
			}
		})
	}
}
