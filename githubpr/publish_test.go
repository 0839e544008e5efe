package githubpr

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/publish"
	"github.com/kiln-ml/kiln/publish/publishtest"
)

// bareRepo is an empty repository to push to.
func bareRepo(t *testing.T) string {
	t.Helper()
	publishtest.IsolateGit(t)
	bare := filepath.Join(t.TempDir(), "deploy.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	return bare
}

func branches(t *testing.T, bare string) string {
	t.Helper()
	out, err := exec.Command("git", "ls-remote", "--heads", bare).CombinedOutput()
	if err != nil {
		t.Fatalf("git ls-remote: %v\n%s", err, out)
	}
	return string(out)
}

// Publish pushes, then opens the pull request with a comment made after
// the change ran; a publish that changes nothing opens none.
func TestPublishOpensPullRequest(t *testing.T) {
	bare := bareRepo(t)
	srv, seen := fakeGitHub(t, []map[string]any{}, nil)
	var wrote string
	change := func(_ context.Context, dir string) error {
		wrote = "deploy/app.yaml"
		return os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: X\n"), 0o644)
	}
	var log strings.Builder
	o := PublishOptions{
		Git:         publish.Options{URL: bare, Branch: "kiln/demo", Base: "main", Message: "kiln: render demo", Log: &log},
		PullRequest: &Options{BaseURL: srv.URL + "/", Token: "gh-token", Owner: "acme", Repo: "deploy", Title: "kiln: render demo"},
		Comment:     func() string { return "changed " + wrote },
	}
	res, err := Publish(context.Background(), o, change)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || res.PullRequest == nil || res.PullRequest.Number != 7 || !res.PullRequest.Created {
		t.Fatalf("result = %+v (pull request %+v)", res, res.PullRequest)
	}
	if !strings.Contains(branches(t, bare), "refs/heads/kiln/demo") {
		t.Errorf("branch not pushed:\n%s", branches(t, bare))
	}
	if len(*seen) != 3 || (*seen)[1].Body["head"] != "kiln/demo" || (*seen)[1].Body["base"] != "main" {
		t.Fatalf("requests: %+v", *seen)
	}
	if body, _ := (*seen)[2].Body["body"].(string); !strings.HasPrefix(body, "changed deploy/app.yaml") {
		t.Errorf("comment %q: want one made after the change", body)
	}
	if want := "opened pull request #7 https://github.example.com/acme/deploy/pull/7\n"; !strings.HasSuffix(log.String(), want) {
		t.Errorf("log %q: want it to end with %q", log.String(), want)
	}

	*seen = nil
	res, err = Publish(context.Background(), o, change)
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed || res.PullRequest != nil || len(*seen) != 0 {
		t.Errorf("nothing changed, yet committed=%v, pull request %+v, requests %+v", res.Committed, res.PullRequest, *seen)
	}
}

// What would leave a branch nobody can review fails before pushing.
func TestPublishChecksBeforePushing(t *testing.T) {
	bare := bareRepo(t)
	change := func(_ context.Context, dir string) error {
		return os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644)
	}
	for name, o := range map[string]PublishOptions{
		"base is the branch": {Git: publish.Options{URL: bare, Branch: "main", Base: "main"}, PullRequest: &Options{Token: "t", Owner: "acme", Repo: "deploy"}},
		"no token":           {Git: publish.Options{URL: bare, Branch: "kiln/x", Base: "main"}, PullRequest: &Options{Owner: "acme", Repo: "deploy"}},
		"no GitHub repo":     {Git: publish.Options{URL: bare, Branch: "kiln/x", Base: "main"}, PullRequest: &Options{Token: "t"}},
	} {
		if _, err := Publish(context.Background(), o, change); err == nil {
			t.Errorf("%s: no error", name)
		}
		if heads := branches(t, bare); heads != "" {
			t.Errorf("%s: pushed anyway:\n%s", name, heads)
		}
	}
}
