package promote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

const header = `package mini

import "github.com/kiln-ml/kiln/schema"

`

// spec writes files (name -> content after the package header) to a new
// directory.
func spec(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if !strings.HasPrefix(body, "package ") {
			body = header + body
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(string(b), header)
}

func pct(n int) *int { return &n }

const base = `let stable = "s3://m/v1"

schema.#System & {
	name:        "mini"
	namespace:   "ml"
	owners: ["a@b.example"]
	environments: {
		dev: {}
		prod: overrides: serving: clf: canary: {storageUri: "s3://m/v2", percent: 5}
	}
	serving: clf: {
		// the model
		model: {format: "sklearn", storageUri: stable}
		resources: {cpu: "1", memory: "1Gi"}
	}
}
`

func TestPromote(t *testing.T) {
	for _, tc := range []struct {
		name   string
		canary *int
		want   string
		edits  []string
	}{{
		// Replace: the let holding the literal changes, the prod
		// canary goes, and the rest of the file keeps its layout,
		// comments and hand alignment.
		name: "replace",
		want: `let stable = "s3://m/v9"

schema.#System & {
	name:      "mini"
	namespace: "ml"
	owners: ["a@b.example"]
	environments: {
		dev: {}
		prod: {}
	}
	serving: clf: {
		// the model
		model: {format: "sklearn", storageUri: stable}
		resources: {cpu: "1", memory: "1Gi"}
	}
}
`,
		edits: []string{
			`s.cue:5:14: serving.clf.model.storageUri: "s3://m/v1" -> "s3://m/v9"`,
			`s.cue:13:34: serving.clf.canary: removed (was {storageUri: "s3://m/v2", percent: 5})`,
		},
	}, {
		// Canary: prod's override is edited in place (literals only,
		// so the original bytes elsewhere stay); dev gets a canary in
		// the base entry, which makes the file reformatted.
		name:   "canary",
		canary: pct(20),
		want: `let stable = "s3://m/v1"

schema.#System & {
	name:      "mini"
	namespace: "ml"
	owners: ["a@b.example"]
	environments: {
		dev: {}
		prod: overrides: serving: clf: canary: {storageUri: "s3://m/v9", percent: 20}
	}
	serving: clf: {
		// the model
		model: {format: "sklearn", storageUri: stable}
		canary: {
			storageUri: "s3://m/v9"
			percent:    20
		}
		resources: {cpu: "1", memory: "1Gi"}
	}
}
`,
		edits: []string{
			`s.cue:13:55: serving.clf.canary.storageUri: "s3://m/v2" -> "s3://m/v9"`,
			`s.cue:13:77: serving.clf.canary.percent: 5 -> 20`,
			`s.cue:15:11: serving.clf.canary: added {storageUri: "s3://m/v9", percent: 20}`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := spec(t, map[string]string{"s.cue": base})
			res, err := Apply(context.Background(), dir, Request{System: "mini", Serving: "clf", ModelURI: "s3://m/v9", Canary: tc.canary})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, read(t, dir, "s.cue")); d != "" {
				t.Errorf("s.cue (-want +got):\n%s", d)
			}
			var edits []string
			for _, e := range res.Edits {
				edits = append(edits, e.Pos.String()+": "+e.What)
			}
			if d := cmp.Diff(tc.edits, edits); d != "" {
				t.Errorf("edits (-want +got):\n%s", d)
			}
			// Promoting again changes nothing.
			again, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Canary: tc.canary})
			if err != nil || len(again.Files) != 0 {
				t.Errorf("second promotion: %v files changed, err %v", len(again.Files), err)
			}
		})
	}
}

// TestReplaceRemovesEveryCanary: the base and prod's override both have a
// canary; prod's struct position is the base's (the override only moves
// its leaves), and yet both canaries must go.
func TestReplaceRemovesEveryCanary(t *testing.T) {
	src := strings.Replace(base, "\t\tresources: {cpu", "\t\tcanary: {storageUri: \"s3://m/v3\", percent: 50}\n\t\tresources: {cpu", 1)
	dir := spec(t, map[string]string{"s.cue": src})
	res, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9"})
	if err != nil {
		t.Fatal(err)
	}
	got := read(t, dir, "s.cue")
	if strings.Contains(got, "canary") {
		t.Errorf("a canary is left:\n%s", got)
	}
	var edits []string
	for _, e := range res.Edits {
		edits = append(edits, e.Pos.String()+": "+e.What)
	}
	want := []string{
		`s.cue:5:14: serving.clf.model.storageUri: "s3://m/v1" -> "s3://m/v9"`,
		`s.cue:13:34: serving.clf.canary: removed (was {storageUri: "s3://m/v2", percent: 5})`,
		`s.cue:18:3: serving.clf.canary: removed (was {storageUri: "s3://m/v3", percent: 50})`,
	}
	if d := cmp.Diff(want, edits); d != "" {
		t.Errorf("edits (-want +got):\n%s", d)
	}
}

// TestStablePercentFollows: a stated stablePercent is kept adding up to 100.
func TestStablePercentFollows(t *testing.T) {
	src := strings.Replace(base, `percent: 5}`, `percent: 5, stablePercent: 95}`, 1)
	dir := spec(t, map[string]string{"s.cue": src})
	if _, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Canary: pct(30)}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "s.cue"); !strings.Contains(got, `canary: {storageUri: "s3://m/v9", percent: 30, stablePercent: 70}`) {
		t.Errorf("prod's canary:\n%s", got)
	}
}

// TestLiteralEditKeepsBytes: an edit of literals only leaves every other
// byte of the file as it was, even the alignment cue fmt would change.
func TestLiteralEditKeepsBytes(t *testing.T) {
	src := strings.NewReplacer(
		`let stable = "s3://m/v1"`, "",
		`storageUri: stable`, `storageUri:   "s3://m/v1"`,
	).Replace(base)
	dir := spec(t, map[string]string{"s.cue": src})
	if _, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Canary: pct(7)}); err != nil {
		t.Fatal(err)
	}
	// Both environments now have a canary: prod's override was edited
	// and the base got one, so the file is reformatted. Promote the
	// canary to the model: the overrides' canary goes, structural again.
	dir = spec(t, map[string]string{"s.cue": strings.Replace(src, `prod: overrides: serving: clf: canary: {storageUri: "s3://m/v2", percent: 5}`, `prod: {}`, 1)})
	if _, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9"}); err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer(
		`prod: overrides: serving: clf: canary: {storageUri: "s3://m/v2", percent: 5}`, `prod: {}`,
		`"s3://m/v1"`, `"s3://m/v9"`,
	).Replace(src)
	if d := cmp.Diff(want, read(t, dir, "s.cue")); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestPromoteRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		req   Request
		want  string
	}{{
		name:  "unknown serving",
		files: map[string]string{"s.cue": base},
		req:   Request{Serving: "nope", ModelURI: "s3://m/v9"},
		want:  `the spec has no serving entry "nope" (it has "clf")`,
	}, {
		name:  "wrong system",
		files: map[string]string{"s.cue": base},
		req:   Request{System: "other", Serving: "clf", ModelURI: "s3://m/v9"},
		want:  `is system "mini", not "other"`,
	}, {
		name:  "interpolation",
		files: map[string]string{"s.cue": strings.Replace(base, `storageUri: stable`, `storageUri: "\(stable)"`, 1)},
		req:   Request{Serving: "clf", ModelURI: "s3://m/v9"},
		want:  `s.cue:17:42: serving.clf.model.storageUri: the value is the expression "\(stable)", not a literal`,
	}, {
		name: "reference to another file",
		files: map[string]string{
			"s.cue":      strings.Replace(strings.Replace(base, `let stable = "s3://m/v1"`, "", 1), `storageUri: stable`, `storageUri: _models.stable`, 1),
			"models.cue": "package mini\n\n_models: stable: \"s3://m/v1\"\n",
		},
		req:  Request{Serving: "clf", ModelURI: "s3://m/v9"},
		want: "the value is the reference _models.stable, which promote cannot follow",
	}, {
		name:  "canary out of range",
		files: map[string]string{"s.cue": base},
		req:   Request{Serving: "clf", ModelURI: "s3://m/v9", Canary: pct(101)},
		want:  "canary percent 101 is out of range",
	}, {
		name:  "spec with errors",
		files: map[string]string{"s.cue": strings.Replace(base, `namespace:   "ml"`, `namespace: 3`, 1)},
		req:   Request{Serving: "clf", ModelURI: "s3://m/v9"},
		want:  "the spec to promote in has errors",
	}, {
		name:  "result does not vet",
		files: map[string]string{"s.cue": base},
		req:   Request{Serving: "clf", ModelURI: "ftp://nope"},
		want:  "after the edit (nothing was written)",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := spec(t, tc.files)
			_, err := Apply(context.Background(), dir, tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
			for name, body := range tc.files {
				if got := read(t, dir, name); got != strings.TrimPrefix(body, header) && got != body {
					t.Errorf("%s changed although the promotion failed", name)
				}
			}
		})
	}
}

// A promotion whose result the renderers' checks refuse writes nothing and
// says why; the check sees the edited spec.
func TestVerifyRefusesAndWritesNothing(t *testing.T) {
	dir := spec(t, map[string]string{"s.cue": base})
	before := read(t, dir, "s.cue")
	var seen string
	verify := func(_ context.Context, sys *ir.System) diag.List {
		seen = sys.Environments[0].Spec.Serving["clf"].Model.StorageURI
		var l diag.List
		l.Errorf(diag.Pos{File: "s.cue", Line: 5, Col: 14}, "serving.clf", "refused by a renderer")
		return l
	}
	_, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Verify: verify})
	var se *SpecError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "refused by a renderer") {
		t.Fatalf("err = %v, want a SpecError from the check", err)
	}
	if seen != "s3://m/v9" {
		t.Errorf("the check saw model %q, not the edited one", seen)
	}
	if got := read(t, dir, "s.cue"); got != before {
		t.Errorf("the spec was written:\n%s", got)
	}
}
