package compiler

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// compileString compiles a one-file spec that exists only in memory.
func compileString(t testing.TB, src string, opts Options) (*ir.System, diag.List) {
	t.Helper()
	opts.Overlay = map[string][]byte{"spec.cue": []byte(src)}
	opts.Cwd = "/virtual"
	return Compile(context.Background(), "/virtual/spec", opts)
}

const base = `package x

name:      "demo"
namespace: "demo-ns"
images: trainer: "reg.example/trainer:1.0"
training: bert: {
	framework: "pytorch"
	image:     images.trainer
	workers:   4
	resources: {gpus: 2, memory: "16Gi"}
	args: {lr: 0.001, epochs: 3}
}
`

func TestOverridesApplyPerEnvironment(t *testing.T) {
	sys, diags := compileString(t, base+`
environments: {
	dev: {
		namespace: "demo-dev"
		overrides: {
			images: trainer: "reg.example/trainer:1.1-rc1"
			training: bert: {workers: 1, resources: gpus: 1}
		}
	}
	prod: gpu: quota: 16
}
`, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := sys.EnvironmentNames(); !cmp.Equal(got, []string{"dev", "prod"}) {
		t.Fatalf("environments = %v", got)
	}
	dev, prod := sys.Environments[0], sys.Environments[1]
	devJob, prodJob := dev.Spec.Training["bert"], prod.Spec.Training["bert"]

	if devJob.Workers != 1 || devJob.Resources.GPUs != 1 {
		t.Errorf("dev: workers=%d gpus=%d, want 1 and 1", devJob.Workers, devJob.Resources.GPUs)
	}
	// Fields the override does not name keep the base value.
	if devJob.Resources.Memory != "16Gi" {
		t.Errorf("dev memory = %q, want the base 16Gi", devJob.Resources.Memory)
	}
	// The image override reaches fields that referred to images.trainer.
	if devJob.Image != "reg.example/trainer:1.1-rc1" {
		t.Errorf("dev image = %q", devJob.Image)
	}
	if prodJob.Workers != 4 || prodJob.Image != "reg.example/trainer:1.0" {
		t.Errorf("prod: workers=%d image=%q, want the base", prodJob.Workers, prodJob.Image)
	}
	if dev.Namespace != "demo-dev" || prod.Namespace != "demo-ns" {
		t.Errorf("namespaces: dev=%q prod=%q", dev.Namespace, prod.Namespace)
	}
	// Positions follow the value that counts: the override in dev, the
	// base in prod.
	if got := dev.Sources.Pos("training.bert.workers"); got.Line != 19 {
		t.Errorf("dev workers position = %v, want line 19 (the override)", got)
	}
	if got := prod.Sources.Pos("training.bert.workers"); got.Line != 9 {
		t.Errorf("prod workers position = %v, want line 9 (the base)", got)
	}
	if prod.GPU.Quota != 16 || dev.GPU.Quota != 0 || dev.GPU.MaxPerPod != 8 {
		t.Errorf("gpu policies: dev=%+v prod=%+v", dev.GPU, prod.GPU)
	}
}

func TestNoEnvironmentsMeansDefault(t *testing.T) {
	sys, diags := compileString(t, base, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := sys.EnvironmentNames(); !cmp.Equal(got, []string{DefaultEnvironment}) {
		t.Errorf("environments = %v", got)
	}
}

func TestEnvironmentRestriction(t *testing.T) {
	sys, diags := compileString(t, base+`
environments: {dev: {}, prod: {}}
notebooks: nb: {image: "jupyter:1", environments: ["dev"]}
`, Options{Environments: []string{"prod", "dev"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, ok := sys.Environments[0].Spec.Notebooks["nb"]; !ok {
		t.Error("dev lacks the notebook")
	}
	if _, ok := sys.Environments[1].Spec.Notebooks["nb"]; ok {
		t.Error("prod has the dev-only notebook")
	}
}

// An override that adds an object the base lacks is merged into an empty
// one (RFC 7396): a null inside it deletes nothing and does not remain.
func TestOverrideAddsObjectWithNull(t *testing.T) {
	sys, diags := compileString(t, base+`environments: dev: overrides: training: bert: env: {A: "1", B: null}`+"\n", Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := sys.Environments[0].Spec.Training["bert"].Env; !cmp.Equal(got, map[string]ir.EnvVar{"A": {Value: "1"}}) {
		t.Errorf("env = %v, want only A", got)
	}
}

func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			"wrong type in an override points at the override",
			base + `environments: dev: overrides: training: bert: workers: "many"` + "\n",
			[]string{`spec/spec.cue:13:56: training.bert.workers: conflicting values "many" and int (mismatched types string and int) (in environment dev)`},
		},
		{
			"null removes an optional field",
			base + `environments: dev: overrides: training: bert: image: null` + "\n",
			[]string{`spec/spec.cue:13:54: training.bert.image: field is required but not present (in environment dev)`},
		},
		{
			"names are checked",
			base + `training: BERT: {framework: "pytorch", image: "x:1"}` + "\n",
			[]string{`spec/spec.cue:13:11: training.BERT: invalid name "BERT": use at most 50 lowercase letters, digits, '-' or '_', starting with a letter and ending with a letter or digit`},
		},
		{
			"unknown fields are rejected by the closed schema",
			base + `training: bert: replicas: 3` + "\n",
			[]string{`spec/spec.cue:13:17: training.bert.replicas: field not allowed`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := compileString(t, tt.src, Options{})
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzCompile checks invariants on arbitrary specs: the compiler never
// panics, and every diagnostic it returns has a position or a path.
func FuzzCompile(f *testing.F) {
	f.Add(base)
	f.Add(base + `environments: dev: overrides: training: bert: workers: 1`)
	f.Add("package x\nname: 1\n")
	f.Add("package x\npipelines: p: steps: {a: {image: \"i\", after: [\"a\"]}}\nname: \"n\"\nnamespace: \"n\"\n")
	f.Add("package x\n{")
	f.Add(base + `environments: {"../x": {}, dev: destination: name: "c", qa: destination: name: "c"}` + "\nlabels: {\"a b\": \"c d\"}\n")
	f.Add(base + `environments: prod: overrides: images: trainer: "t:2"` + "\ntraining: bert: env: {API_TOKEN: \"abc\", \"1X\": \"y\" @kiln(notsecret)}\n")
	f.Add(base + `pipelines: p: {parameters: "a b": {}, steps: s: {image: "i", outputs: parameters: ["x.y"]}}`)
	f.Add(base + `images: b: {ref: "t:2", build: {context: "../x/", push: secret: "p"}}` + "\nenvironments: prod: overrides: images: b: \"t:3\"\npipelines: p: steps: s: image: images.b.ref\n")
	f.Fuzz(func(t *testing.T, src string) {
		if !strings.HasPrefix(src, "package") {
			src = "package x\n" + src
		}
		sys, diags := compileString(t, src, Options{})
		for _, d := range diags {
			if !d.Pos.IsValid() && d.Path == "" {
				t.Errorf("diagnostic without position or path: %q", d.Msg)
			}
		}
		if diags.HasErrors() != (sys == nil) {
			t.Errorf("errors=%v but system nil=%v", diags.HasErrors(), sys == nil)
		}
	})
}
