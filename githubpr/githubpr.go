package githubpr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Options say which pull request to open or update.
type Options struct {
	// BaseURL is the API base of GitHub Enterprise Server, such as
	// https://github.example.com/ (the /api/v3/ suffix is added); empty
	// means github.com.
	BaseURL string
	// Token authenticates the requests (GITHUB_TOKEN).
	Token string
	// Owner and Repo name the repository.
	Owner, Repo string
	// Head is the branch with the changes; Base the branch to merge into.
	Head, Base string
	// Title and Body describe the pull request.
	Title, Body string
	// Comment, when not empty, is kiln's summary comment on the pull
	// request: added once, then edited in place.
	Comment string
	// HTTPClient is the client to use; http.DefaultClient when nil.
	HTTPClient *http.Client
}

// Result is the pull request.
type Result struct {
	Number  int
	URL     string
	Created bool
}

// OpenOrUpdate makes sure an open pull request from Head into Base exists,
// with Title and Body, and that its summary comment says Comment.
func OpenOrUpdate(ctx context.Context, o Options) (Result, error) {
	if o.Token == "" {
		return Result{}, errors.New("GitHub: no token (set GITHUB_TOKEN)")
	}
	c := github.NewClient(o.HTTPClient).WithAuthToken(o.Token)
	if o.BaseURL != "" {
		var err error
		if c, err = c.WithEnterpriseURLs(o.BaseURL, o.BaseURL); err != nil {
			return Result{}, fmt.Errorf("GitHub base URL %q: %w", o.BaseURL, err)
		}
	}
	prs, _, err := c.PullRequests.List(ctx, o.Owner, o.Repo, &github.PullRequestListOptions{
		State: "open",
		Head:  o.Owner + ":" + o.Head,
		Base:  o.Base,
	})
	if err != nil {
		return Result{}, fmt.Errorf("GitHub: listing pull requests of %s/%s: %w", o.Owner, o.Repo, err)
	}
	var pr *github.PullRequest
	var res Result
	if len(prs) == 0 {
		pr, _, err = c.PullRequests.Create(ctx, o.Owner, o.Repo, &github.NewPullRequest{
			Title: github.String(o.Title),
			Head:  github.String(o.Head),
			Base:  github.String(o.Base),
			Body:  github.String(o.Body),
		})
		if err != nil {
			return Result{}, fmt.Errorf("GitHub: opening a pull request from %s into %s: %w", o.Head, o.Base, err)
		}
		res.Created = true
	} else {
		pr, _, err = c.PullRequests.Edit(ctx, o.Owner, o.Repo, prs[0].GetNumber(), &github.PullRequest{
			Title: github.String(o.Title),
			Body:  github.String(o.Body),
		})
		if err != nil {
			return Result{}, fmt.Errorf("GitHub: updating pull request #%d: %w", prs[0].GetNumber(), err)
		}
	}
	res.Number, res.URL = pr.GetNumber(), pr.GetHTMLURL()
	if o.Comment == "" {
		return res, nil
	}
	// One summary comment per pull request, edited as the output changes,
	// so reviewers read the current summary instead of a growing thread.
	body := o.Comment + "\n\n" + CommentMarker
	if !res.Created {
		id, err := findComment(ctx, c, o, res.Number)
		if err != nil {
			return res, fmt.Errorf("GitHub: reading the comments of pull request #%d: %w", res.Number, err)
		}
		if id != 0 {
			if _, _, err := c.Issues.EditComment(ctx, o.Owner, o.Repo, id, &github.IssueComment{Body: github.String(body)}); err != nil {
				return res, fmt.Errorf("GitHub: updating the summary comment on pull request #%d: %w", res.Number, err)
			}
			return res, nil
		}
	}
	if _, _, err := c.Issues.CreateComment(ctx, o.Owner, o.Repo, res.Number, &github.IssueComment{Body: github.String(body)}); err != nil {
		return res, fmt.Errorf("GitHub: commenting on pull request #%d: %w", res.Number, err)
	}
	return res, nil
}

// CommentMarker ends kiln's summary comment, an HTML comment GitHub does
// not show, so that the next run finds the comment to update.
const CommentMarker = "<!-- kiln:summary -->"

// findComment returns the id of kiln's summary comment on the pull
// request, or 0 when it has none.
func findComment(ctx context.Context, c *github.Client, o Options, number int) (int64, error) {
	opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := c.Issues.ListComments(ctx, o.Owner, o.Repo, number, opt)
		if err != nil {
			return 0, err
		}
		for _, cm := range comments {
			if strings.Contains(cm.GetBody(), CommentMarker) {
				return cm.GetID(), nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return 0, nil
		}
		opt.Page = resp.NextPage
	}
}

// ParseRepo returns the owner and name of a GitHub repository from its
// clone URL: https://host/owner/repo(.git), ssh://git@host/owner/repo.git or
// git@host:owner/repo.git.
func ParseRepo(remote string) (owner, repo string, err error) {
	p := remote
	if u, perr := url.Parse(remote); perr == nil && u.Scheme != "" && u.Host != "" {
		p = u.Path
	} else if at := strings.Index(remote, "@"); at >= 0 {
		if _, after, ok := strings.Cut(remote[at:], ":"); ok {
			p = after
		}
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	parts := strings.Split(p, "/")
	if len(parts) < 2 || parts[len(parts)-2] == "" || parts[len(parts)-1] == "" {
		return "", "", fmt.Errorf("cannot tell the GitHub owner and repository from %q (want https://host/OWNER/REPO.git)", remote)
	}
	return parts[len(parts)-2], parts[len(parts)-1], nil
}
