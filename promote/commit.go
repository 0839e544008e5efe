package promote

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Commit is a promotion made in a clone of the spec's repository, for a
// publisher that commits and pushes it: the branch a pull request would
// come from, the commit's subject and body, the change to apply to the
// clone (once per push attempt) and the pull request's summary comment.
// This package stays free of git; the caller pushes.
type Commit struct {
	// Branch is the pull request branch: kiln/promote-<system>-<serving>,
	// with -<env>… appended when the request names environments, so
	// pipelines of different environments promoting at once do not share
	// a pull request.
	Branch string
	// Subject is the commit's first line, Body the rest (and the pull
	// request's title and description).
	Subject, Body string

	req  Request
	spec string
	last *Result
}

// NewCommit describes the promotion req of the spec at spec, a directory
// relative to the repository's root. message, when not empty, replaces
// the subject kiln writes.
func NewCommit(req Request, spec, message string) *Commit {
	what := "model " + req.ModelURI
	if req.Canary != nil {
		what = fmt.Sprintf("canary %s at %d%%", req.ModelURI, *req.Canary)
	}
	branch := "kiln/promote-" + req.System + "-" + req.Serving
	if len(req.Environments) > 0 {
		envs := slices.Compact(slices.Sorted(slices.Values(req.Environments)))
		what += " in " + strings.Join(envs, ", ")
		branch += "-" + strings.Join(envs, "-")
	}
	c := &Commit{Branch: branch, Subject: message, req: req, spec: spec}
	if c.Subject == "" {
		c.Subject = fmt.Sprintf("kiln: promote %s/%s to %s", req.System, req.Serving, what)
	}
	c.Body = fmt.Sprintf("Promoted by kiln: serving entry %s of system %s now has %s.", req.Serving, req.System, what)
	return c
}

// Change applies the promotion to the spec in the clone at dir; it has
// the signature of a publish change.
func (c *Commit) Change(ctx context.Context, dir string) error {
	res, err := Apply(ctx, filepath.Join(dir, filepath.FromSlash(c.spec)), c.req)
	if err != nil {
		return err
	}
	c.last = res
	return nil
}

// Result is what the last Change did; nil before one succeeded.
func (c *Commit) Result() *Result { return c.last }

// Comment is the pull request's summary: each edit at its position.
func (c *Commit) Comment() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### kiln promote %s/%s\n\n", c.req.System, c.req.Serving)
	if c.last != nil {
		for _, e := range c.last.Edits {
			fmt.Fprintf(&b, "- `%s`: %s\n", e.Pos, e.What)
		}
	}
	return b.String()
}
