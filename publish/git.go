package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

// git runs git commands in one directory with one environment.
type git struct {
	dir   string
	env   []string
	token string
	// secrets are masked in every message, such as the user info of a
	// remote URL (https://user:password@host/...).
	secrets []string
}

func newGit(dir, token string) *git {
	env := append(os.Environ(),
		// Never wait for a password on a terminal; fail instead.
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
	)
	if token != "" {
		// http.extraHeader from the environment (git >= 2.31): the
		// token lives only in this process's environment.
		auth := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
		env = append(env,
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.extraHeader",
			"GIT_CONFIG_VALUE_0=Authorization: Basic "+auth,
		)
	}
	return &git{dir: dir, env: env, token: token}
}

// gitError is a failed git command, its output masked of the token.
type gitError struct {
	args   []string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), msg)
}

func (e *gitError) Unwrap() error { return e.err }

func (g *git) mask(s string) string {
	for _, sec := range g.secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	if g.token == "" {
		return s
	}
	s = strings.ReplaceAll(s, g.token, "***")
	return strings.ReplaceAll(s, base64.StdEncoding.EncodeToString([]byte("x-access-token:"+g.token)), "***")
}

// run runs git with args and returns its standard output.
func (g *git) run(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("git is not installed (kiln publishes with the git binary, version 2.31 or later): %w", err)
		}
		return stdout.String(), &gitError{args: maskArgs(g, args), stderr: g.mask(stderr.String()), err: err}
	}
	return stdout.String(), nil
}

func maskArgs(g *git, args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = g.mask(a)
	}
	return out
}

// Revision describes the commit a directory is checked out at, for commit
// messages: the full hash of HEAD with "-dirty" when the directory has
// uncommitted changes, or "unknown" when it is not in a Git work tree.
func Revision(ctx context.Context, dir string) string {
	g := newGit(dir, "")
	head, err := g.run(ctx, "rev-parse", "HEAD")
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(head)
	if st, err := g.run(ctx, "status", "--porcelain", "--", "."); err == nil && strings.TrimSpace(st) != "" {
		rev += "-dirty"
	}
	return rev
}

// redactURL hides the user info of a URL (which may carry a token) for
// messages; userInfo is what was hidden, "" when nothing was.
func redactURL(raw string) (display, userInfo string) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || u.Host == "" {
		return raw, ""
	}
	info := u.User.String()
	if info == "" {
		return raw, ""
	}
	return strings.Replace(raw, info+"@", "***@", 1), info
}
