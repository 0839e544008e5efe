package diff

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzCompare checks invariants, not outputs: a tree compared with itself
// has no changes; two different trees always have a file diff whose
// removed and added lines rebuild both sides; the report never panics and
// is the same on every run.
func FuzzCompare(f *testing.F) {
	f.Add("kind: ConfigMap\nmetadata:\n  name: a\n", "kind: ConfigMap\nmetadata:\n  name: a\ndata: {x: y}\n")
	f.Add("a\nb", "a\nb\n")
	f.Add("", "---\n---\n")
	f.Add("kind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - resources: {limits: {nvidia.com/gpu: 2}}\n", "kind: [\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		old := map[string][]byte{"env/sys/x.yaml": []byte(a)}
		new := map[string][]byte{"env/sys/x.yaml": []byte(b)}
		if r := Compare(old, old); r.Changed() || len(r.Objects) > 0 {
			t.Fatalf("a tree differs from itself: %+v", r)
		}
		r := Compare(old, new)
		if r.Changed() != (a != b) {
			t.Fatalf("Changed() = %v for a != b = %v", r.Changed(), a != b)
		}
		var out1, out2 bytes.Buffer
		r.WriteSummary(&out1)
		r.WriteUnified(&out1)
		r2 := Compare(old, new)
		r2.WriteSummary(&out2)
		r2.WriteUnified(&out2)
		if out1.String() != out2.String() {
			t.Fatal("two runs differ")
		}
		if a == b {
			return
		}
		// Rebuild both sides from the hunks' lines (full context).
		var gotA, gotB strings.Builder
		u := unifiedContext("env/sys/x.yaml", []byte(a), []byte(b), 1<<20)
		for i, line := range strings.SplitAfter(u, "\n") {
			if i < 3 || line == "" || strings.HasPrefix(line, "\\") {
				continue
			}
			switch line[0] {
			case ' ':
				gotA.WriteString(line[1:])
				gotB.WriteString(line[1:])
			case '-':
				gotA.WriteString(line[1:])
			case '+':
				gotB.WriteString(line[1:])
			}
		}
		if want := withNewline(a); gotA.String() != want {
			t.Fatalf("old side rebuilt as %q, want %q\n%s", gotA.String(), want, u)
		}
		if want := withNewline(b); gotB.String() != want {
			t.Fatalf("new side rebuilt as %q, want %q\n%s", gotB.String(), want, u)
		}
	})
}

func withNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}
