package diag

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSortAndDedupe(t *testing.T) {
	l := List{
		Errorf(Pos{}, "b", "no position"),
		Errorf(Pos{File: "b.cue", Line: 1, Col: 1}, "x", "later file"),
		Errorf(Pos{File: "a.cue", Line: 9, Col: 2}, "y", "later line"),
		Errorf(Pos{File: "a.cue", Line: 2, Col: 5}, "z", "first"),
		Errorf(Pos{File: "a.cue", Line: 2, Col: 5}, "z", "first"),
	}
	var got []string
	for _, d := range l.Sort() {
		got = append(got, d.String())
	}
	want := []string{
		"a.cue:2:5: z: first",
		"a.cue:9:2: y: later line",
		"b.cue:1:1: x: later file",
		"b: no position",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestErrOnlyWithErrors(t *testing.T) {
	if err := (List{Warnf(Pos{}, "p", "w")}).Err(); err != nil {
		t.Errorf("warnings only: Err() = %v, want nil", err)
	}
	if err := (List{Errorf(Pos{}, "p", "e")}).Err(); err == nil {
		t.Error("errors: Err() = nil")
	}
}

func TestWriteFormats(t *testing.T) {
	l := List{{
		Severity: Error,
		Path:     "training.bert.workers",
		Pos:      Pos{File: "spec/a,b.cue", Line: 3, Col: 7},
		Related:  []Pos{{File: "schema/training.cue", Line: 32, Col: 12}},
		Msg:      "bad: 50% off\nsecond line",
	}}
	tests := []struct {
		f    Format
		want string
	}{
		{Text, "spec/a,b.cue:3:7: training.bert.workers: bad: 50% off\nsecond line\n\tschema/training.cue:32:12\n"},
		// GitHub's toolkit escaping: %, newlines, and in properties : and ,.
		{GitHub, "::error file=spec/a%2Cb.cue,line=3,col=7,title=training.bert.workers::training.bert.workers: bad: 50%25 off%0Asecond line\n"},
		{JSON, `{
  "diagnostics": [
    {
      "severity": "error",
      "path": "training.bert.workers",
      "pos": {
        "file": "spec/a,b.cue",
        "line": 3,
        "col": 7
      },
      "related": [
        {
          "file": "schema/training.cue",
          "line": 32,
          "col": 12
        }
      ],
      "msg": "bad: 50% off\nsecond line"
    }
  ]
}
`},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := Write(&buf, tt.f, l); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.f, diff)
		}
	}
}
