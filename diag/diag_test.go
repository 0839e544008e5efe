package diag

import (
	"bytes"
	"strings"
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

// A diagnostic's environments are data; text output appends them to the
// message unless it names them already, JSON keeps them in "envs".
func TestEnvironmentsAreData(t *testing.T) {
	at := Pos{File: "spec.cue", Line: 4, Col: 2}
	tests := []struct {
		d    Diagnostic
		text string
	}{
		{Errorf(at, "training.a", "too big"), "spec.cue:4:2: training.a: too big"},
		{Diagnostic{Pos: at, Path: "training.a", Msg: "too big", Envs: []string{"prod"}}, "spec.cue:4:2: training.a: too big (in environment prod)"},
		{Diagnostic{Pos: at, Path: "training.a", Msg: "too big", Envs: []string{"dev", "prod"}}, "spec.cue:4:2: training.a: too big (in environments dev, prod)"},
		{Diagnostic{Pos: at, Path: "p", Msg: "matches no object in environment dev; try x", Envs: []string{"dev"}}, "spec.cue:4:2: p: matches no object in environment dev; try x"},
		// "develop" is not "dev".
		{Diagnostic{Pos: at, Path: "p", Msg: "branch develop", Envs: []string{"dev"}}, "spec.cue:4:2: p: branch develop (in environment dev)"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.text {
			t.Errorf("String() = %q, want %q", got, tt.text)
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, JSON, List{tests[1].d}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"envs": [
        "prod"
      ],`) || !strings.Contains(buf.String(), `"msg": "too big"`) {
		t.Errorf("JSON keeps the environments out of the message:\n%s", buf.String())
	}
	buf.Reset()
	if err := Write(&buf, GitHub, List{tests[1].d}); err != nil {
		t.Fatal(err)
	}
	if want := "::error file=spec.cue,line=4,col=2,title=training.a::training.a: too big (in environment prod)\n"; buf.String() != want {
		t.Errorf("GitHub = %q, want %q", buf.String(), want)
	}
}

func TestMergeEnvs(t *testing.T) {
	at := Pos{File: "spec.cue", Line: 4, Col: 2}
	in := func(msg string, envs ...string) Diagnostic {
		return Diagnostic{Pos: at, Path: "x", Msg: msg, Envs: envs}
	}
	all := []string{"dev", "prod", "staging"}
	got := List{
		in("everywhere", "prod"), in("everywhere", "dev"), in("everywhere", "staging"),
		in("two", "staging"), in("two", "dev"),
		in("one", "prod"),
		in("base"), in("base", "dev"),
		in("twice", "dev"), in("twice", "dev"),
	}.MergeEnvs(all)
	want := List{in("base"), in("everywhere"), in("one", "prod"), in("twice", "dev"), in("two", "dev", "staging")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// Related positions make a different diagnostic.
	a, b := in("m", "dev"), in("m", "prod")
	b.Related = []Pos{{File: "schema/x.cue", Line: 1}}
	if got := (List{a, b}).MergeEnvs([]string{"dev", "prod"}); len(got) != 2 {
		t.Errorf("merged diagnostics with different related positions: %v", got)
	}
}
