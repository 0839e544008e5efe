package ir

import (
	"testing"

	"github.com/kiln-ml/kiln/diag"
)

func TestPath(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{Path("training", "resnet", "workers"), "training.resnet.workers"},
		{Path("sweeps", "resnet-tune"), `sweeps."resnet-tune"`},
		{Index(Path("steps", "a", "after"), 0), "steps.a.after.0"},
		{Join("", "a"), "a"},
		{Parent(`sweeps."a.b".trial`), `sweeps."a.b"`},
		{Parent(`sweeps."a.b"`), "sweeps"},
		{Parent("sweeps"), ""},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestSourcesFallBackToAncestor(t *testing.T) {
	s := Sources{
		"":                {File: "s.cue", Line: 1, Col: 1},
		"training.resnet": {File: "s.cue", Line: 5, Col: 11},
	}
	if got := s.Pos("training.resnet.resources.gpus"); got != (diag.Pos{File: "s.cue", Line: 5, Col: 11}) {
		t.Errorf("got %v", got)
	}
	if got := s.Pos("namespace"); got.Line != 1 {
		t.Errorf("root fallback: got %v", got)
	}
}
