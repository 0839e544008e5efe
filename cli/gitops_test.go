package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-ml/kiln/cli"
	"github.com/kiln-ml/kiln/publish/publishtest"
)

const gitopsSpec = `package demo

import "github.com/kiln-ml/kiln/schema"

schema.#System & {
	name:      "demo"
	namespace: "ml"
	owners: ["ml@acme.example"]
	environments: {
		dev: gpu: quota: 4
		prod: gpu: quota: 32
	}
	training: bert: {
		framework: "pytorch"
		image:     "ghcr.io/acme/bert:1.0.0"
		command: ["python", "train.py"]
		workers: WORKERS
		resources: {gpus: 1, cpu: "4", memory: "16Gi"}
	}
	serving: a: {
		model: {format: "sklearn", storageUri: "s3://models/a/v1"}
		resources: {cpu: "1", memory: "1Gi"}
	}
	serving: b: {
		model: {format: "sklearn", storageUri: "s3://models/b/v1"}
		resources: {cpu: "1", memory: "1Gi"}
	}
}
`

func gitSetup(t *testing.T) {
	t.Helper()
	publishtest.IsolateGit(t)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// specRepo makes a bare repository at root/acme/<name>.git whose main
// branch holds the spec under spec/.
func specRepo(t *testing.T, root, name string, workers int) string {
	t.Helper()
	bare := filepath.Join(root, "acme", name+".git")
	git(t, root, "init", "--quiet", "--bare", "--initial-branch=main", bare)
	work := t.TempDir()
	git(t, work, "init", "--quiet", "--initial-branch=main")
	os.MkdirAll(filepath.Join(work, "spec"), 0o755)
	os.WriteFile(filepath.Join(work, "spec", "system.cue"), []byte(strings.ReplaceAll(gitopsSpec, "WORKERS", fmt.Sprint(workers))), 0o644)
	git(t, work, "add", ".")
	git(t, work, "commit", "--quiet", "-m", "spec")
	git(t, work, "push", "--quiet", bare, "main")
	return bare
}

func kiln(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

type ghRequest struct {
	Method, Path string
	Body         map[string]any
}

// TestPublishGitHub publishes to a branch and opens, then updates, a pull
// request on a fake GitHub Enterprise, with the diff summary as a comment
// that the second publish edits.
func TestPublishGitHub(t *testing.T) {
	gitSetup(t)
	root := t.TempDir()
	bare := specRepo(t, root, "deploy", 2)
	var mu sync.Mutex
	var seen []ghRequest
	open := false
	var comments []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		req := ghRequest{Method: r.Method, Path: r.URL.Path}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			json.Unmarshal(b, &req.Body)
		}
		if r.Header.Get("Authorization") != "Bearer gh-secret" {
			t.Errorf("%s %s: Authorization = %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		seen = append(seen, req)
		switch {
		case r.Method == "GET" && r.URL.Path == "/api/v3/repos/acme/deploy/pulls":
			if got := r.URL.Query().Get("head"); got != "acme:kiln/demo" {
				t.Errorf("head filter = %q", got)
			}
			if open {
				fmt.Fprint(w, `[{"number": 3}]`)
			} else {
				fmt.Fprint(w, `[]`)
			}
		case r.Method == "POST" && r.URL.Path == "/api/v3/repos/acme/deploy/pulls":
			open = true
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"number": 3, "html_url": "https://ghe.example/acme/deploy/pull/3"}`)
		case r.Method == "PATCH" && r.URL.Path == "/api/v3/repos/acme/deploy/pulls/3":
			fmt.Fprint(w, `{"number": 3, "html_url": "https://ghe.example/acme/deploy/pull/3"}`)
		case r.Method == "GET" && r.URL.Path == "/api/v3/repos/acme/deploy/issues/3/comments":
			json.NewEncoder(w).Encode(comments)
		case r.Method == "POST" && r.URL.Path == "/api/v3/repos/acme/deploy/issues/3/comments":
			comments = append(comments, map[string]any{"id": len(comments) + 1, "body": req.Body["body"]})
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id": %d}`, len(comments))
		case r.Method == "PATCH" && r.URL.Path == "/api/v3/repos/acme/deploy/issues/comments/1":
			comments[0]["body"] = req.Body["body"]
			fmt.Fprint(w, `{"id": 1}`)
		default:
			http.Error(w, "not found", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	t.Setenv("GITHUB_TOKEN", "gh-secret")

	checkout := t.TempDir()
	git(t, checkout, "clone", "--quiet", bare, ".")
	spec := filepath.Join(checkout, "spec")
	code, _, stderr := kiln(t, "publish", "--repo", bare, "--github", "--github-url", srv.URL, spec)
	if code != 0 {
		t.Fatalf("publish: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "opened pull request #3 https://ghe.example/acme/deploy/pull/3") {
		t.Errorf("stderr = %s", stderr)
	}
	// The branch has the output on top of main; main is untouched.
	if files := git(t, bare, "ls-tree", "-r", "--name-only", "kiln/demo", "deploy/prod/demo/"); !regexp.MustCompile(`(?m)^deploy/prod/demo/pytorchjob-bert-[0-9a-f]{8}\.yaml$`).MatchString(files) {
		t.Errorf("no job on the branch:\n%s", files)
	}
	if n := strings.TrimSpace(git(t, bare, "rev-list", "--count", "main")); n != "1" {
		t.Errorf("main has %s commits", n)
	}
	rev := strings.TrimSpace(git(t, checkout, "rev-parse", "HEAD"))

	// A second publish with more workers updates the same pull request.
	os.WriteFile(filepath.Join(spec, "system.cue"), []byte(strings.ReplaceAll(gitopsSpec, "WORKERS", "4")), 0o644)
	code, _, stderr = kiln(t, "publish", "--repo", bare, "--github", "--github-url", srv.URL, spec)
	if code != 0 {
		t.Fatalf("second publish: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "updated pull request #3") {
		t.Errorf("stderr = %s", stderr)
	}

	var got []string
	for _, r := range seen {
		got = append(got, r.Method+" "+r.Path)
	}
	want := []string{
		"GET /api/v3/repos/acme/deploy/pulls",
		"POST /api/v3/repos/acme/deploy/pulls",
		"POST /api/v3/repos/acme/deploy/issues/3/comments",
		"GET /api/v3/repos/acme/deploy/pulls",
		"PATCH /api/v3/repos/acme/deploy/pulls/3",
		// The summary comment is edited in place, not added again.
		"GET /api/v3/repos/acme/deploy/issues/3/comments",
		"PATCH /api/v3/repos/acme/deploy/issues/comments/1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	create := seen[1].Body
	if create["head"] != "kiln/demo" || create["base"] != "main" || create["title"] != "kiln: render demo" {
		t.Errorf("create body = %v", create)
	}
	if body, _ := create["body"].(string); !strings.Contains(body, "Kiln-Spec-Revision: "+rev) {
		t.Errorf("pull request body lacks the revision %s: %q", rev, body)
	}
	first, _ := seen[2].Body["body"].(string)
	if !strings.HasPrefix(first, "### kiln publish: demo\n") || !strings.Contains(first, "  prod  nvidia.com/gpu  0 → 2  (+2)") {
		t.Errorf("first comment:\n%s", first)
	}
	second, _ := seen[6].Body["body"].(string)
	if !strings.Contains(second, "  prod  nvidia.com/gpu  2 → 4  (+2)") || !strings.Contains(second, "+ prod: PyTorchJob.kubeflow.org ml/bert-") || !strings.Contains(second, "- prod: PyTorchJob.kubeflow.org ml/bert-") {
		// A changed standalone job is a new job under a new name.
		t.Errorf("second comment:\n%s", second)
	}
	// The comment is the one kiln diff --github prints: with the picture.
	if !strings.Contains(second, "```mermaid\n") || !strings.Contains(second, `subgraph env1["prod · nvidia.com/gpu 2 → 4 (+2)"]`) {
		t.Errorf("second comment has no picture of the change:\n%s", second)
	}
	if body, _ := seen[4].Body["body"].(string); !strings.Contains(body, "Kiln-Spec-Revision: "+rev+"-dirty") {
		t.Errorf("updated body lacks the dirty revision: %q", body)
	}
}

// TestConcurrentPromotions runs two promotions of different serving
// entries at the same time against one repository: both land, on a linear
// history, without force.
func TestConcurrentPromotions(t *testing.T) {
	gitSetup(t)
	bare := specRepo(t, t.TempDir(), "ml", 1)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	stderrs := make([]string, 2)
	for i, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, stderrs[i] = kiln(t, "promote", "demo/"+name, "--model-uri", "s3://models/"+name+"/v2", "--repo", bare, "--spec", "spec", "--attempts", "10")
		}()
	}
	wg.Wait()
	for i := range 2 {
		if codes[i] != 0 {
			t.Fatalf("promotion %d: exit %d\n%s", i, codes[i], stderrs[i])
		}
	}
	src := git(t, bare, "show", "main:spec/system.cue")
	for _, uri := range []string{`"s3://models/a/v2"`, `"s3://models/b/v2"`} {
		if !strings.Contains(src, uri) {
			t.Errorf("main:spec/system.cue lacks %s:\n%s", uri, src)
		}
	}
	log := strings.Split(strings.TrimSpace(git(t, bare, "log", "--format=%s", "main")), "\n")
	if len(log) != 3 || log[2] != "spec" {
		t.Errorf("history = %q", log)
	}
}

func TestGitOpsExitCodes(t *testing.T) {
	gitSetup(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec")
	os.MkdirAll(spec, 0o755)
	os.WriteFile(filepath.Join(spec, "system.cue"), []byte(strings.ReplaceAll(gitopsSpec, "WORKERS", "2")), 0o644)
	out := filepath.Join(dir, "deploy")
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"diff finds changes", []string{"diff", "--exit-code", "--out", out, spec}, cli.ExitFindings},
		{"diff without --exit-code", []string{"diff", "--out", out, spec}, cli.ExitOK},
		{"check finds drift", []string{"check", "--out", out, spec}, cli.ExitFindings},
		{"render", []string{"render", "--out", out, spec}, cli.ExitOK},
		{"no changes", []string{"diff", "--exit-code", "--out", out, spec}, cli.ExitOK},
		{"check passes", []string{"check", "--out", out, spec}, cli.ExitOK},
		{"unreachable remote", []string{"publish", "--repo", "git://127.0.0.1:1/x.git", spec}, cli.ExitInternal},
		{"promote unknown entry", []string{"promote", "demo/zzz", "--model-uri", "s3://m/x", "--spec", spec}, cli.ExitUsage},
		{"promote bad URI", []string{"promote", "demo/a", "--model-uri", "ftp://m/x", "--spec", spec}, cli.ExitFindings},
		{"promote", []string{"promote", "demo/a", "--model-uri", "s3://m/x", "--spec", spec}, cli.ExitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, stderr := kiln(t, tc.args...); code != tc.want {
				t.Errorf("kiln %s: exit %d, want %d\n%s", strings.Join(tc.args, " "), code, tc.want, stderr)
			}
		})
	}
}

// TestPromoteGitHubEnvironment: a promotion limited to prod opens its pull
// request from a branch of its own, so dev's and prod's pipelines promoting
// at once do not push to one branch, and the commit changes prod alone.
func TestPromoteGitHubEnvironment(t *testing.T) {
	gitSetup(t)
	bare := specRepo(t, t.TempDir(), "deploy", 1)
	var mu sync.Mutex
	var created map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == "GET" && r.URL.Path == "/api/v3/repos/acme/deploy/pulls":
			fmt.Fprint(w, `[]`)
		case r.Method == "POST" && r.URL.Path == "/api/v3/repos/acme/deploy/pulls":
			b, _ := io.ReadAll(r.Body)
			json.Unmarshal(b, &created)
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"number": 5, "html_url": "https://ghe.example/acme/deploy/pull/5"}`)
		case r.Method == "POST" && r.URL.Path == "/api/v3/repos/acme/deploy/issues/5/comments":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id": 1}`)
		default:
			http.Error(w, "not found", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	t.Setenv("GITHUB_TOKEN", "gh-secret")

	code, _, stderr := kiln(t, "promote", "demo/a", "--model-uri", "s3://models/a/v2", "-e", "prod", "--repo", bare, "--spec", "spec", "--github", "--github-url", srv.URL)
	if code != 0 {
		t.Fatalf("promote: exit %d\n%s", code, stderr)
	}
	if created["head"] != "kiln/promote-demo-a-prod" || created["title"] != "kiln: promote demo/a to model s3://models/a/v2 in prod" {
		t.Errorf("pull request = %v", created)
	}
	src := git(t, bare, "show", "kiln/promote-demo-a-prod:spec/system.cue")
	want := "\t\tprod: {\n\t\t\tgpu: quota: 32\n\t\t\toverrides: serving: a: model: storageUri: \"s3://models/a/v2\"\n\t\t}\n"
	if !strings.Contains(src, want) || !strings.Contains(src, `storageUri: "s3://models/a/v1"`) {
		t.Errorf("the branch's spec lacks prod's override %q or the base's v1:\n%s", want, src)
	}
}
