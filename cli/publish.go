package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/githubpr"
	"github.com/kiln-ml/kiln/publish"
)

// Environment variables holding credentials. They are read, never
// printed or written anywhere.
const (
	envGitToken    = "KILN_GIT_TOKEN"
	envGitHubToken = "GITHUB_TOKEN"
)

// gitOptions are the flags of commands that push to a repository.
type gitOptions struct {
	repo      string
	branch    string
	message   string
	github    bool
	base      string
	githubURL string
	attempts  int
}

func (o *gitOptions) addFlags(cmd *cobra.Command, branchHelp string) {
	cmd.Flags().StringVar(&o.repo, "repo", "", "Git repository to push to: a URL or a local path")
	cmd.Flags().StringVar(&o.branch, "branch", "main", branchHelp)
	cmd.Flags().StringVar(&o.message, "message", "", "first line of the commit message (the spec's revision is always added)")
	cmd.Flags().BoolVar(&o.github, "github", false, "push to a branch and open or update a GitHub pull request into --base (token from GITHUB_TOKEN)")
	cmd.Flags().StringVar(&o.base, "base", "main", "with --github: the branch the pull request merges into")
	cmd.Flags().StringVar(&o.githubURL, "github-url", "", "with --github: GitHub Enterprise Server base URL, e.g. https://github.example.com/")
	cmd.Flags().IntVar(&o.attempts, "attempts", publish.DefaultAttempts, "pushes to try when others push to the branch at the same time")
}

// headBranch is the branch to push to: --branch, or with --github and no
// --branch, a branch of kiln's own for the pull request.
func (o *gitOptions) headBranch(cmd *cobra.Command, def string) string {
	if o.github && !cmd.Flags().Changed("branch") {
		return def
	}
	return o.branch
}

// push runs a publish and, with --github, the pull request; what the
// flags and the environment say is checked here, as usage errors.
func (a *app) push(ctx context.Context, o *gitOptions, branch, subject, body string, change publish.Change, comment func() string) (githubpr.PublishResult, error) {
	if o.github && os.Getenv(envGitHubToken) == "" {
		return githubpr.PublishResult{}, usageError{fmt.Errorf("--github needs a token in %s", envGitHubToken)}
	}
	base := ""
	if o.github {
		base = o.base
		if branch == base {
			return githubpr.PublishResult{}, usageError{fmt.Errorf("--github pushes to a branch of its own; --branch %s is the pull request's base", branch)}
		}
	}
	token := os.Getenv(envGitToken)
	if token == "" && o.github {
		// In GitHub Actions one token usually does both.
		token = os.Getenv(envGitHubToken)
	}
	var pr *githubpr.Options
	if o.github {
		pr = &githubpr.Options{BaseURL: o.githubURL, Token: os.Getenv(envGitHubToken), Title: subject, Body: body}
	}
	return githubpr.Publish(ctx, githubpr.PublishOptions{
		Git: publish.Options{
			URL:      o.repo,
			Branch:   branch,
			Base:     base,
			Message:  subject + "\n\n" + body,
			Token:    token,
			Attempts: o.attempts,
			Log:      a.stderr,
		},
		PullRequest: pr,
		Comment:     comment,
	}, change)
}

type publishOptions struct {
	diag diagOptions
	git  gitOptions
	path string
}

func (a *app) newPublishCmd() *cobra.Command {
	var o publishOptions
	cmd := &cobra.Command{
		Use:   "publish [DIR] --repo URL|PATH",
		Short: "Render and push the output to a Git repository, or open a pull request",
		Long: `Publish renders the spec in DIR (default: the current directory) and commits the
output into a Git repository, the spec's own or a separate config repository,
under --path, then pushes to --branch. It works in a temporary clone and never
touches your checkout.

The commit message names the spec's revision (git rev-parse HEAD of DIR's
repository, with -dirty when DIR has uncommitted changes). Nothing is committed
when the output is unchanged. When someone else pushes to the branch meanwhile,
publish fetches the new head, writes the output onto it again and retries (up
to --attempts times); it never force-pushes, so both changes survive. Files
under --path that kiln did not generate are left alone. To publish into the
spec's own repository, pass its remote URL (--repo "$(git remote get-url
origin)"): git refuses pushes to the checked-out branch of a local clone.

With --github, the output goes to a branch (default kiln/<system>) and a pull
request into --base is opened or updated, with the diff summary of the push as
a comment. GitHub Enterprise Server: --github-url.

Credentials: KILN_GIT_TOKEN, when set, authenticates HTTPS pushes (sent as an
Authorization header to git through its environment; never written to disk or
printed); GITHUB_TOKEN authenticates the GitHub API, and with --github also git
when KILN_GIT_TOKEN is not set. SSH remotes use your SSH setup. git 2.31 or later must be on PATH.`,
		Example: `  kiln publish --repo git@github.com:acme/ml-deploy.git --path skin-lesion ./spec
  kiln publish --repo https://github.com/acme/ml-deploy.git --github --base main ./spec`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.diag.parse()
			if err != nil {
				return err
			}
			if o.git.repo == "" {
				return usageError{fmt.Errorf("--repo is required")}
			}
			if !filepath.IsLocal(filepath.FromSlash(o.path)) {
				return usageError{fmt.Errorf("--path %q must be a relative path inside the repository", o.path)}
			}
			dir := specDir(args)
			res, files, scope, diags, err := freshTree(cmd.Context(), dir, nil)
			if err != nil {
				return err
			}
			pending, err := a.reportBefore(f, diags)
			if err != nil || files == nil {
				return err
			}
			subject, body := publish.RenderMessage(res.System.Name, publish.Revision(cmd.Context(), dir), o.git.message)
			tree := &publish.Tree{Path: o.path, Files: files, Scope: scope}
			branch := o.git.headBranch(cmd, "kiln/"+res.System.Name)
			_, err = a.push(cmd.Context(), &o.git, branch, subject, body, tree.Change, func() string {
				return tree.Report().Markdown("kiln publish: " + res.System.Name)
			})
			if err != nil {
				return err
			}
			if f == diag.JSON {
				// The report is nil when nothing was pushed: the
				// output was already there.
				var d any
				if rep := tree.Report(); rep != nil {
					d = diffJSON(rep, false)
				}
				return a.writeJSON(pending, "diff", d)
			}
			if rep := tree.Report(); rep != nil {
				return rep.WriteSummary(a.stdout)
			}
			return nil
		},
	}
	o.diag.addFlags(cmd)
	o.git.addFlags(cmd, "branch to push to (with --github: the pull request's branch, default kiln/<system>)")
	cmd.Flags().StringVar(&o.path, "path", "deploy", "directory in the repository to write the output under")
	return cmd
}
