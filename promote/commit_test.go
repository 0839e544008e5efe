package promote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Commit names its branch and message after the request, applies the
// promotion to the spec inside a clone, and summarises the edits it made.
func TestCommit(t *testing.T) {
	c := NewCommit(Request{System: "mini", Serving: "clf", ModelURI: "s3://m/v9", Canary: pct(10), Environments: []string{"prod", "dev", "prod"}}, "specs/mini", "")
	if want := "kiln/promote-mini-clf-dev-prod"; c.Branch != want {
		t.Errorf("branch %q, want %q", c.Branch, want)
	}
	if want := "kiln: promote mini/clf to canary s3://m/v9 at 10% in dev, prod"; c.Subject != want {
		t.Errorf("subject %q, want %q", c.Subject, want)
	}
	if want := "Promoted by kiln: serving entry clf of system mini now has canary s3://m/v9 at 10% in dev, prod."; c.Body != want {
		t.Errorf("body %q, want %q", c.Body, want)
	}
	if got := NewCommit(Request{System: "mini", Serving: "clf", ModelURI: "s3://m/v9"}, ".", "ship v9"); got.Subject != "ship v9" || got.Branch != "kiln/promote-mini-clf" {
		t.Errorf("with a message: subject %q, branch %q", got.Subject, got.Branch)
	}

	// The spec lives under specs/mini of the clone.
	clone := t.TempDir()
	dir := spec(t, map[string]string{"s.cue": base})
	if err := os.MkdirAll(filepath.Join(clone, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, filepath.Join(clone, "specs", "mini")); err != nil {
		t.Fatal(err)
	}
	c = NewCommit(Request{System: "mini", Serving: "clf", ModelURI: "s3://m/v9"}, "specs/mini", "")
	if c.Result() != nil {
		t.Error("a result before any change")
	}
	if err := c.Change(context.Background(), clone); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(clone, "specs", "mini"), "s.cue"); !strings.Contains(got, `let stable = "s3://m/v9"`) {
		t.Errorf("the clone's spec was not edited:\n%s", got)
	}
	want := "### kiln promote mini/clf\n\n" +
		"- `s.cue:5:14`: serving.clf.model.storageUri: \"s3://m/v1\" -> \"s3://m/v9\"\n" +
		"- `s.cue:13:34`: serving.clf.canary: removed (was {storageUri: \"s3://m/v2\", percent: 5})\n"
	if got := c.Comment(); got != want {
		t.Errorf("comment:\n%s\nwant:\n%s", got, want)
	}
	if c.Result() == nil || len(c.Result().Edits) != 2 {
		t.Errorf("result %+v", c.Result())
	}
}
