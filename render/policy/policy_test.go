package policy

import (
	"testing"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

func atMost(n int) func(int) bool { return func(x int) bool { return x <= n } }

// A job over gpusPerJob is reported at its GPUs, an environment over
// gpusPerEnvironment at its gpu section, each naming the rule and with the
// rule's position as related; what fits says nothing.
func TestCheck(t *testing.T) {
	rulePos := diag.Pos{File: "policy.cue", Line: 3, Col: 2}
	env := &ir.Environment{
		Name: "prod",
		Spec: &ir.Spec{Training: map[string]*ir.Training{
			"big":   {Framework: "pytorch", Workers: 4, Resources: ir.Resources{GPUs: 4}},
			"small": {Framework: "pytorch", Workers: 1, Resources: ir.Resources{GPUs: 2}},
			"cpu":   {Framework: "pytorch", Workers: 8},
		}},
		Sources: ir.Sources{"training.big.resources.gpus": {File: "s.cue", Line: 9, Col: 5}, "environments.prod": {File: "s.cue", Line: 4, Col: 2}},
		Policy: []ir.PolicyRule{
			{Name: "gpusPerJob", Pos: rulePos, Text: "<=8", Allows: atMost(8)},
			{Name: "gpusPerEnvironment", Pos: rulePos, Text: "<=12", Allows: atMost(12)},
		},
	}
	res := &render.Result{
		System: &ir.System{Name: "demo", Environments: []*ir.Environment{env}},
		Environments: []render.Environment{{Name: "prod", GPUDemands: []render.GPUDemand{
			{Path: "serving.m", Resource: "nvidia.com/gpu", Held: 2, Peak: 4},
			{Path: "training.big", Resource: "nvidia.com/gpu", Peak: 16},
		}}},
	}
	got := Check(res)
	want := []string{
		"s.cue:4:2: environments.prod.gpu: prod may need 18 of nvidia.com/gpu at once at worst (held for good 2 + largest run 16 (training.big)), which breaks policy rule gpusPerEnvironment: it must satisfy <=12",
		"s.cue:9:5: training.big.resources.gpus: the job asks for 16 GPUs in all (4 workers × 4), which breaks policy rule gpusPerJob: it must satisfy <=8",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:\n%v", len(got), len(want), got)
	}
	for i, d := range got {
		if d.String() != want[i] {
			t.Errorf("diagnostic %d:\n got %s\nwant %s", i, d, want[i])
		}
		if len(d.Related) != 1 || d.Related[0] != rulePos {
			t.Errorf("diagnostic %d: related %v, want the rule's position", i, d.Related)
		}
	}
}
