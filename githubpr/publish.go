package githubpr

import (
	"context"
	"fmt"

	"github.com/kiln-ml/kiln/publish"
)

// PublishOptions are a publish and, for a change that goes through review,
// the pull request it opens or updates.
type PublishOptions struct {
	Git publish.Options
	// PullRequest, when not nil, asks for a pull request from Git.Branch
	// into Git.Base after a push that committed something. Owner and
	// Repo are parsed from Git.URL when empty; Head and Base are
	// Git's branches.
	PullRequest *Options
	// Comment, when not nil, is called after the push and gives the
	// pull request's summary comment: by then the change has run, so the
	// comment can say what it did.
	Comment func() string
}

// PublishResult is what a publish did, and the pull request when one was
// asked for and something was committed.
type PublishResult struct {
	publish.Result
	PullRequest *Result
}

// Publish pushes change as [publish.Publish] does, then opens or updates
// the pull request; a push that commits nothing opens none. It logs the
// pull request's number and address to Git.Log.
func Publish(ctx context.Context, o PublishOptions, change publish.Change) (PublishResult, error) {
	pr := o.PullRequest
	if pr != nil {
		if o.Git.Base == "" || o.Git.Base == o.Git.Branch {
			return PublishResult{}, fmt.Errorf("a pull request needs a branch of its own: %s is its base", o.Git.Branch)
		}
		// Checked before pushing: a branch pushed for a pull request
		// that cannot be opened is left for nobody to review.
		if pr.Token == "" {
			return PublishResult{}, fmt.Errorf("GitHub: no token (set GITHUB_TOKEN)")
		}
	}
	var req Options
	if pr != nil {
		req = *pr
		if req.Owner == "" || req.Repo == "" {
			var err error
			if req.Owner, req.Repo, err = ParseRepo(o.Git.URL); err != nil {
				return PublishResult{}, err
			}
		}
	}
	res, err := publish.Publish(ctx, o.Git, change)
	if err != nil || !res.Committed || pr == nil {
		return PublishResult{Result: res}, err
	}
	req.Head, req.Base = o.Git.Branch, o.Git.Base
	if o.Comment != nil {
		req.Comment = o.Comment()
	}
	opened, err := OpenOrUpdate(ctx, req)
	if err != nil {
		return PublishResult{Result: res}, err
	}
	if o.Git.Log != nil {
		verb := "updated"
		if opened.Created {
			verb = "opened"
		}
		fmt.Fprintf(o.Git.Log, "%s pull request #%d %s\n", verb, opened.Number, opened.URL)
	}
	return PublishResult{Result: res, PullRequest: &opened}, nil
}
