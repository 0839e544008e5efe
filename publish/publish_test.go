package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/publish/publishtest"
)

// gitEnv isolates git from the machine's configuration.
func gitEnv(t *testing.T) {
	t.Helper()
	publishtest.IsolateGit(t)
	// Every temporary clone goes here, so a test can see none is left.
	t.Setenv("TMPDIR", t.TempDir())
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newRemote makes a bare repository whose main branch has one commit with
// README.md.
func newRemote(t *testing.T, root, name string) string {
	t.Helper()
	bare := filepath.Join(root, name)
	run(t, root, "git", "init", "--quiet", "--bare", "--initial-branch=main", bare)
	work := t.TempDir()
	run(t, work, "git", "init", "--quiet", "--initial-branch=main")
	os.WriteFile(filepath.Join(work, "README.md"), []byte("config repo\n"), 0o644)
	run(t, work, "git", "add", ".")
	run(t, work, "git", "commit", "--quiet", "-m", "initial")
	run(t, work, "git", "push", "--quiet", bare, "main")
	return bare
}

// writeFile returns a change that writes one file.
func writeFile(name, content string) Change {
	return func(_ context.Context, dir string) error {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o644)
	}
}

// show returns a file of the remote's branch.
func show(t *testing.T, bare, branch, name string) string {
	t.Helper()
	return run(t, bare, "git", "show", branch+":"+name)
}

func log(t *testing.T, bare, branch string) []string {
	t.Helper()
	out := run(t, bare, "git", "log", "--format=%s", branch)
	return strings.Split(strings.TrimSpace(out), "\n")
}

func noClonesLeft(t *testing.T) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "kiln-publish-*"))
	if len(left) > 0 {
		t.Errorf("temporary clones left behind: %v", left)
	}
}

func TestPublishToBareRepository(t *testing.T) {
	gitEnv(t)
	ctx := context.Background()
	bare := newRemote(t, t.TempDir(), "config.git")
	opts := Options{URL: bare, Branch: "main", Message: "render\n\nKiln-Spec-Revision: abc"}

	res, err := Publish(ctx, opts, writeFile("deploy/a.yaml", "a: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || res.Attempts != 1 || res.Created {
		t.Errorf("first publish: %+v", res)
	}
	if got := show(t, bare, "main", "deploy/a.yaml"); got != "a: 1\n" {
		t.Errorf("deploy/a.yaml = %q", got)
	}
	if got := show(t, bare, "main", "README.md"); got != "config repo\n" {
		t.Errorf("README.md lost: %q", got)
	}
	head := strings.TrimSpace(run(t, bare, "git", "rev-parse", "main"))
	if head != res.Commit {
		t.Errorf("remote main is %s, publish says %s", head, res.Commit)
	}
	body := run(t, bare, "git", "log", "-1", "--format=%B", "main")
	if !strings.Contains(body, "Kiln-Spec-Revision: abc") {
		t.Errorf("commit message lost the revision: %q", body)
	}

	// The same content again: no commit.
	res, err = Publish(ctx, opts, writeFile("deploy/a.yaml", "a: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed || res.Commit != head {
		t.Errorf("unchanged publish: %+v, want no commit at %s", res, head)
	}
	if got := log(t, bare, "main"); !slices.Equal(got, []string{"render", "initial"}) {
		t.Errorf("history = %q", got)
	}
	noClonesLeft(t)
}

func TestPublishNewBranchFromBase(t *testing.T) {
	gitEnv(t)
	bare := newRemote(t, t.TempDir(), "config.git")
	res, err := Publish(context.Background(), Options{URL: bare, Branch: "kiln/x", Base: "main", Message: "m"}, writeFile("f", "1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || !res.Committed {
		t.Errorf("%+v", res)
	}
	if got := log(t, bare, "kiln/x"); !slices.Equal(got, []string{"m", "initial"}) {
		t.Errorf("history of kiln/x = %q", got)
	}
	if got := log(t, bare, "main"); !slices.Equal(got, []string{"initial"}) {
		t.Errorf("main moved: %q", got)
	}
}

func TestPublishToEmptyRepository(t *testing.T) {
	gitEnv(t)
	root := t.TempDir()
	bare := filepath.Join(root, "empty.git")
	run(t, root, "git", "init", "--quiet", "--bare", bare)
	if _, err := Publish(context.Background(), Options{URL: bare, Branch: "main", Message: "first"}, writeFile("f", "1\n")); err != nil {
		t.Fatal(err)
	}
	if got := log(t, bare, "main"); !slices.Equal(got, []string{"first"}) {
		t.Errorf("history = %q", got)
	}
}

// TestPublishRetriesAfterRace has another publisher push between this
// one's commit and its push: the push is rejected, and the retry keeps
// both changes without rewriting history.
func TestPublishRetriesAfterRace(t *testing.T) {
	gitEnv(t)
	ctx := context.Background()
	bare := newRemote(t, t.TempDir(), "config.git")
	calls := 0
	opts := Options{URL: bare, Branch: "main", Message: "ours", Log: &bytes.Buffer{}}
	opts.beforePush = func(attempt int) {
		if attempt == 1 {
			if _, err := Publish(ctx, Options{URL: bare, Branch: "main", Message: "theirs"}, writeFile("theirs.yaml", "t\n")); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := Publish(ctx, opts, func(ctx context.Context, dir string) error {
		calls++
		return writeFile("ours.yaml", "o\n")(ctx, dir)
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || calls != 2 {
		t.Errorf("attempts = %d, change ran %d times; want 2 and 2", res.Attempts, calls)
	}
	if got := log(t, bare, "main"); !slices.Equal(got, []string{"ours", "theirs", "initial"}) {
		t.Errorf("history = %q", got)
	}
	show(t, bare, "main", "ours.yaml")
	show(t, bare, "main", "theirs.yaml")
	if !strings.Contains(opts.Log.(*bytes.Buffer).String(), "moved while publishing (attempt 1 of 5)") {
		t.Errorf("log = %q", opts.Log)
	}
}

func TestPublishGivesUpAfterAttempts(t *testing.T) {
	gitEnv(t)
	ctx := context.Background()
	bare := newRemote(t, t.TempDir(), "config.git")
	n := 0
	opts := Options{URL: bare, Branch: "main", Message: "ours", Attempts: 2}
	opts.beforePush = func(int) {
		n++
		if _, err := Publish(ctx, Options{URL: bare, Branch: "main", Message: "theirs"}, writeFile("theirs.yaml", fmt.Sprint(n))); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Publish(ctx, opts, writeFile("ours.yaml", "o\n"))
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if got := log(t, bare, "main"); slices.Contains(got, "ours") || len(got) != 3 {
		t.Errorf("history = %q", got)
	}
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// gitDaemon serves root over git:// on loopback, pushes allowed.
func gitDaemon(t *testing.T, root string) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command("git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
		"--base-path="+root, "--listen=127.0.0.1", fmt.Sprintf("--port=%d", port), root)
	// Its own process group, so the per-connection children die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("git daemon did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "git://" + addr
}

// TestConcurrentPublishOverGitDaemon races four publishers, each adding
// its own file, against a git daemon on loopback: every change lands.
func TestConcurrentPublishOverGitDaemon(t *testing.T) {
	gitEnv(t)
	root := t.TempDir()
	newRemote(t, root, "config.git")
	url := gitDaemon(t, root) + "/config.git"
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	results := make([]Result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = Publish(context.Background(), Options{URL: url, Branch: "main", Message: fmt.Sprintf("publisher %d", i), Attempts: 10},
				writeFile(fmt.Sprintf("env%d/app.yaml", i), fmt.Sprintf("n: %d\n", i)))
		}()
	}
	wg.Wait()
	bare := filepath.Join(root, "config.git")
	for i := range n {
		if errs[i] != nil {
			t.Errorf("publisher %d: %v", i, errs[i])
			continue
		}
		if got := show(t, bare, "main", fmt.Sprintf("env%d/app.yaml", i)); got != fmt.Sprintf("n: %d\n", i) {
			t.Errorf("env%d/app.yaml = %q", i, got)
		}
	}
	// Linear history: every publisher's commit, once, on top of initial.
	got := log(t, bare, "main")
	if len(got) != n+1 || got[n] != "initial" {
		t.Errorf("history = %q", got)
	}
	noClonesLeft(t)
}

// smartHTTP serves root with git-http-backend through net/http/cgi,
// requiring Basic auth with the token as x-access-token's password.
func smartHTTP(t *testing.T, root, token string) (*httptest.Server, *[]string) {
	t.Helper()
	backend := "/usr/lib/git-core/git-http-backend"
	if out, err := exec.Command("git", "--exec-path").Output(); err == nil {
		backend = filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	}
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("no git-http-backend: %v", err)
	}
	h := &cgi.Handler{
		Path: backend,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=kiln"},
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &auths
}

func TestPublishOverSmartHTTPWithToken(t *testing.T) {
	gitEnv(t)
	root := t.TempDir()
	bare := newRemote(t, root, "config.git")
	srv, auths := smartHTTP(t, root, "s3cret-token")
	url := srv.URL + "/config.git"

	// A wrong token: a clear error that does not show it.
	_, err := Publish(context.Background(), Options{URL: url, Branch: "main", Message: "m", Token: "wrong-token"}, writeFile("a", "1\n"))
	if err == nil {
		t.Fatal("publish with a wrong token succeeded")
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("error shows the token: %v", err)
	}

	res, err := Publish(context.Background(), Options{URL: url, Branch: "main", Message: "over http", Token: "s3cret-token"}, writeFile("a", "1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed {
		t.Errorf("%+v", res)
	}
	if got := show(t, bare, "main", "a"); got != "1\n" {
		t.Errorf("a = %q", got)
	}
	if len(*auths) == 0 {
		t.Error("the server saw no request")
	}
	// The token never reaches the disk: not in the remote's files either.
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("s3cret-token")) {
				t.Errorf("%s holds the token", p)
			}
		}
		return nil
	})
	noClonesLeft(t)
}

// TestConcurrentPublishOverSmartHTTP is the race over HTTP: two
// publishers, both changes survive.
func TestConcurrentPublishOverSmartHTTP(t *testing.T) {
	gitEnv(t)
	root := t.TempDir()
	bare := newRemote(t, root, "config.git")
	run(t, bare, "git", "config", "http.receivepack", "true")
	srv, _ := smartHTTP(t, root, "tok")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Publish(context.Background(), Options{URL: srv.URL + "/config.git", Branch: "main", Message: fmt.Sprint("p", i), Token: "tok", Attempts: 10},
				writeFile(fmt.Sprintf("p%d", i), "x\n"))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("publisher %d: %v", i, err)
		}
		show(t, bare, "main", fmt.Sprintf("p%d", i))
	}
}

func TestPublishUnreachableRemote(t *testing.T) {
	gitEnv(t)
	local := t.TempDir()
	os.WriteFile(filepath.Join(local, "spec.cue"), []byte("x: 1\n"), 0o644)
	called := false
	url := fmt.Sprintf("git://127.0.0.1:%d/config.git", freePort(t))
	_, err := Publish(context.Background(), Options{URL: url, Branch: "main", Message: "m"}, func(context.Context, string) error {
		called = true
		return nil
	})
	if err == nil {
		t.Fatal("publish to a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "fetching "+url) || !strings.Contains(err.Error(), "ls-remote") {
		t.Errorf("error = %v", err)
	}
	if called {
		t.Error("the change ran although nothing was fetched")
	}
	if b, _ := os.ReadFile(filepath.Join(local, "spec.cue")); string(b) != "x: 1\n" {
		t.Errorf("local file changed: %q", b)
	}
	noClonesLeft(t)
}

func TestIsLocalPath(t *testing.T) {
	for u, want := range map[string]bool{
		"remote.git":                 true,
		"/srv/git/x.git":             true,
		"./a:b/x.git":                true,
		"git@github.com:acme/x.git":  false,
		"https://github.com/acme/x":  false,
		"ssh://git@host/acme/x.git":  false,
		"file:///srv/git/config.git": false,
	} {
		if got := isLocalPath(u); got != want {
			t.Errorf("isLocalPath(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestCredentialsInURLAreMasked(t *testing.T) {
	gitEnv(t)
	url := fmt.Sprintf("http://user:pa55word@127.0.0.1:%d/config.git", freePort(t))
	_, err := Publish(context.Background(), Options{URL: url, Branch: "main", Message: "m"}, writeFile("a", "1\n"))
	if err == nil {
		t.Fatal("publish to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "pa55word") || !strings.Contains(err.Error(), "http://***@127.0.0.1") {
		t.Errorf("error = %v", err)
	}
}
