package schema_test

import (
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
)

// TestBounds checks the schema on its own, as plain `cue vet` and editors
// use it, without kiln: numbers Kubernetes cannot store, shares of traffic
// outside 0–100 and entry names kiln refuses are errors in CUE already.
func TestBounds(t *testing.T) {
	insts := load.Instances([]string{"."}, &load.Config{Dir: "."})
	if err := insts[0].Err; err != nil {
		t.Fatal(err)
	}
	ctx := cuecontext.New()
	sch := ctx.BuildInstance(insts[0])
	if err := sch.Err(); err != nil {
		t.Fatal(err)
	}
	system := sch.LookupPath(cue.ParsePath("#System"))
	base := `name: "demo", namespace: "demo", environments: prod: {}
`
	for _, tc := range []struct {
		name, spec string
		// want is a fragment of the error; "" means the spec is valid.
		want string
	}{
		{"workers", `training: a: {framework: "pytorch", image: "t:1", workers: 2147483647}`, ""},
		{"workers over int32", `training: a: {framework: "pytorch", image: "t:1", workers: 2147483648}`, "out of bound <=2147483647"},
		{"gpus over int32", `training: a: {framework: "pytorch", image: "t:1", resources: gpus: 4294967296}`, "out of bound <=2147483647"},
		{"gpu quota over int32", `environments: dev: gpu: quota: 99999999999`, "out of bound <=2147483647"},
		{"canary 100", `serving: s: {model: {format: "pytorch", storageUri: "s3://m/a"}, canary: {storageUri: "s3://m/b", percent: 100}}`, ""},
		{"canary over 100", `serving: s: {model: {format: "pytorch", storageUri: "s3://m/a"}, canary: {storageUri: "s3://m/b", percent: 101}}`, "out of bound <=100"},
		{"canary negative", `serving: s: {model: {format: "pytorch", storageUri: "s3://m/a"}, canary: {storageUri: "s3://m/b", percent: -1}}`, "out of bound >=0"},
		{"stable over 100", `serving: s: {model: {format: "pytorch", storageUri: "s3://m/a"}, canary: {storageUri: "s3://m/b", percent: 0, stablePercent: 120}}`, "out of bound <=100"},
		{"promote canary over 100", `pipelines: p: steps: go: promote: {serving: "s", canary: 150, repository: {url: "https://g/r.git", credentials: secret: "git"}}`, "out of bound <=100"},
		{"entry name", `training: bert_v2: {framework: "pytorch", image: "t:1"}`, ""},
		{"entry name uppercase", `training: BERT: {framework: "pytorch", image: "t:1"}`, "training.BERT: field not allowed"},
		{"entry name leading digit", `datasets: "9lives": uri: "s3://d/"`, `datasets."9lives": field not allowed`},
		{"entry name too long", `notebooks: ` + strings.Repeat("n", 51) + `: image: "j:1"`, "field not allowed"},
		{"entry name of 50", `notebooks: ` + strings.Repeat("n", 50) + `: image: "j:1"`, ""},
		{"step name", `pipelines: p: steps: Step1: image: "t:1"`, "pipelines.p.steps.Step1: field not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := system.Unify(ctx.CompileString(base + tc.spec))
			err := v.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("valid spec refused: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("spec accepted, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(errorsText(err), tc.want):
				t.Errorf("error %q lacks %q", errorsText(err), tc.want)
			}
		})
	}
}

func errorsText(err error) string {
	if err == nil {
		return ""
	}
	// Every error of the list, not only the first line.
	return cueerrors.Details(err, nil)
}
