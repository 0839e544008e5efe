package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultAttempts bounds the pushes of one publish.
const DefaultAttempts = 5

// Options say where to publish.
type Options struct {
	// URL is the remote repository: a URL git understands or a local path.
	URL string
	// Branch is the branch to push to.
	Branch string
	// Base is the branch to start from when Branch does not exist on the
	// remote yet (a new pull request branch); Branch when empty. When
	// neither exists (an empty repository) the first commit has no parent.
	Base string
	// Message is the commit message.
	Message string
	// Token, when set, authenticates HTTPS remotes.
	Token string
	// Attempts bounds the pushes; DefaultAttempts when zero.
	Attempts int
	// Log receives progress lines; nil discards them.
	Log io.Writer

	// beforePush runs before each push; tests use it to push
	// something else first.
	beforePush func(attempt int)
}

// Change edits the work tree at dir: the files to publish. It runs once per
// attempt, each time on a fresh checkout of the branch's current head, so it
// must compute its result from that checkout alone.
type Change func(ctx context.Context, dir string) error

// Result is what a publish did.
type Result struct {
	// Committed is false when the change left the branch as it was.
	Committed bool
	// Commit is the hash of the pushed commit, or of the branch head
	// when nothing was committed (empty for an empty repository).
	Commit string
	// Attempts is the number of pushes tried.
	Attempts int
	// Created is true when the push created Branch.
	Created bool
}

// ErrConflict is returned when every attempt lost the race to another
// publisher.
var ErrConflict = errors.New("the branch kept moving")

// Publish clones opts.URL into a temporary directory, applies change,
// commits and pushes to opts.Branch, retrying on a non-fast-forward
// rejection as the package documentation describes.
func Publish(ctx context.Context, opts Options, change Change) (Result, error) {
	if opts.URL == "" || opts.Branch == "" {
		return Result{}, errors.New("publish: a repository and a branch are required")
	}
	if opts.Base == "" {
		opts.Base = opts.Branch
	}
	if isLocalPath(opts.URL) {
		// The clone lives elsewhere: a relative path means the
		// caller's working directory.
		abs, err := filepath.Abs(opts.URL)
		if err != nil {
			return Result{}, err
		}
		opts.URL = abs
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	// Messages show the URL without credentials written into it.
	display, userInfo := redactURL(opts.URL)
	tmp, err := os.MkdirTemp("", "kiln-publish-*")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	g := newGit(tmp, opts.Token)
	if userInfo != "" {
		g.secrets = append(g.secrets, userInfo)
	}
	if _, err := g.run(ctx, "init", "--quiet"); err != nil {
		return Result{}, err
	}
	var res Result
	for attempt := 1; attempt <= opts.Attempts; attempt++ {
		res.Attempts = attempt
		start, created, err := checkout(ctx, g, opts)
		if err != nil {
			return res, fmt.Errorf("fetching %s: %w", display, err)
		}
		res.Created = created
		if err := change(ctx, tmp); err != nil {
			return res, err
		}
		if _, err := g.run(ctx, "add", "--all"); err != nil {
			return res, err
		}
		status, err := g.run(ctx, "status", "--porcelain")
		if err != nil {
			return res, err
		}
		if strings.TrimSpace(status) == "" && !created {
			fmt.Fprintf(log, "nothing to publish: %s %s is up to date\n", display, opts.Branch)
			res.Commit = start
			return res, nil
		}
		if strings.TrimSpace(status) == "" {
			// A new branch with the base's content: nothing to
			// propose either.
			fmt.Fprintf(log, "nothing to publish: %s %s has no changes\n", display, opts.Base)
			res.Commit, res.Created = start, false
			return res, nil
		}
		if _, err := g.run(ctx, append(identity(ctx, g), "commit", "--quiet", "--no-verify", "-m", opts.Message)...); err != nil {
			return res, err
		}
		head, err := g.run(ctx, "rev-parse", "HEAD")
		if err != nil {
			return res, err
		}
		res.Commit, res.Committed = strings.TrimSpace(head), true
		if opts.beforePush != nil {
			opts.beforePush(attempt)
		}
		out, err := g.run(ctx, "push", "--porcelain", opts.URL, "HEAD:refs/heads/"+opts.Branch)
		if err == nil {
			fmt.Fprintf(log, "pushed %s to %s %s\n", short(res.Commit), display, opts.Branch)
			return res, nil
		}
		if !rejected(out) {
			return res, fmt.Errorf("pushing to %s: %w", display, err)
		}
		fmt.Fprintf(log, "%s %s moved while publishing (attempt %d of %d); fetching it and applying the change again\n", display, opts.Branch, attempt, opts.Attempts)
		res.Committed, res.Commit = false, ""
	}
	return res, fmt.Errorf("pushing to %s %s: %w: %d attempts were all rejected as non-fast-forward", display, opts.Branch, ErrConflict, opts.Attempts)
}

// checkout fetches the branch (or the base) and checks it out at the
// remote's head, discarding any earlier attempt. It returns the head and
// whether Branch is new.
func checkout(ctx context.Context, g *git, opts Options) (string, bool, error) {
	// The URL is given on each command line rather than stored as a
	// remote, so nothing in the clone holds it.
	heads, err := g.run(ctx, "ls-remote", "--heads", opts.URL)
	if err != nil {
		return "", false, err
	}
	have := map[string]string{}
	for _, line := range strings.Split(heads, "\n") {
		if hash, ref, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok {
			have[strings.TrimPrefix(ref, "refs/heads/")] = hash
		}
	}
	from, created := opts.Branch, false
	if _, ok := have[from]; !ok {
		from, created = opts.Base, true
	}
	if _, ok := have[from]; !ok {
		if len(have) > 0 {
			return "", false, fmt.Errorf("the repository has neither branch %q nor %q", opts.Branch, opts.Base)
		}
		// An empty repository: start an orphan branch.
		if _, err := g.run(ctx, "checkout", "--quiet", "--orphan", "kiln-publish"); err != nil {
			return "", false, err
		}
		if _, err := g.run(ctx, "rm", "-r", "--quiet", "--cached", "--ignore-unmatch", "."); err != nil {
			return "", false, err
		}
		if _, err := g.run(ctx, "clean", "-fdq"); err != nil {
			return "", false, err
		}
		return "", true, nil
	}
	ref := "refs/remotes/origin/" + from
	if _, err := g.run(ctx, "fetch", "--quiet", "--no-tags", opts.URL, "+refs/heads/"+from+":"+ref); err != nil {
		return "", false, err
	}
	if _, err := g.run(ctx, "checkout", "--quiet", "--force", "-B", "kiln-publish", ref); err != nil {
		return "", false, err
	}
	if _, err := g.run(ctx, "reset", "--quiet", "--hard", ref); err != nil {
		return "", false, err
	}
	if _, err := g.run(ctx, "clean", "-fdxq"); err != nil {
		return "", false, err
	}
	head, err := g.run(ctx, "rev-parse", "HEAD")
	return strings.TrimSpace(head), created, err
}

// rejected reports whether git push --porcelain output says the remote
// refused the update because the branch moved: not a fast-forward, or
// (pushes racing on the server) the ref changed between the server's check
// and its update. A hook declining the push is not retried.
func rejected(porcelain string) bool {
	for _, line := range strings.Split(porcelain, "\n") {
		if !strings.HasPrefix(line, "!") {
			continue
		}
		for _, why := range []string{"non-fast-forward", "fetch first", "failed to update ref", "failed to lock", "cannot lock ref", "stale info"} {
			if strings.Contains(line, why) {
				return true
			}
		}
	}
	return false
}

// isLocalPath reports whether git would read u as a path on disk rather
// than a URL (scheme://...) or an scp-like address (host:path).
func isLocalPath(u string) bool {
	if strings.Contains(u, "://") {
		return false
	}
	colon, slash := strings.Index(u, ":"), strings.Index(u, "/")
	return colon < 0 || (slash >= 0 && slash < colon)
}

// identity supplies a committer when git has none configured (CI
// containers), without overriding one that is.
func identity(ctx context.Context, g *git) []string {
	var args []string
	if name, _ := g.run(ctx, "config", "user.name"); strings.TrimSpace(name) == "" && os.Getenv("GIT_AUTHOR_NAME") == "" {
		args = append(args, "-c", "user.name=kiln")
	}
	if email, _ := g.run(ctx, "config", "user.email"); strings.TrimSpace(email) == "" && os.Getenv("GIT_AUTHOR_EMAIL") == "" {
		args = append(args, "-c", "user.email=kiln@localhost")
	}
	return args
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
