package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/githubpr"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/promote"
	"github.com/kiln-ml/kiln/render"
)

type promoteOptions struct {
	git      gitOptions
	modelURI string
	canary   int
	spec     string
	envs     []string
	lineage  string
	result   string
}

func (a *app) newPromoteCmd() *cobra.Command {
	var o promoteOptions
	cmd := &cobra.Command{
		Use:   "promote [DIR] SYSTEM/SERVING --model-uri URI [--canary N] [-e ENV] [--lineage URI]",
		Short: "Roll a new model version into the spec's CUE source, locally or through Git",
		Long: `Promote changes the serving entry SERVING of system SYSTEM in the CUE source
of the spec in DIR (default: the current directory; --spec DIR says the same),
keeping comments and layout (cue/format), and checks that the edited spec
still vets before writing it.

Without --canary the model is replaced: model.storageUri becomes URI in every
environment (the base entry and any override that sets it) and every canary is
removed. With --canary N the new model becomes the canary: where an environment
already has a canary, its storageUri and percent are set (in the base entry or
the override that defines it, and a stated stablePercent to 100-N); where
none has one, canary: {storageUri, percent} is added to the base entry. The stable model is left as it is; promoting again
without --canary makes the new model the stable one.

With --lineage URI the model's lineage record (the run that produced it) is
written beside it, as model.lineage or canary.lineage, and the serving
renderers annotate its InferenceService with it (kiln.dev/lineage); a model
promoted without --lineage drops the lineage of the model it replaces.
--result FILE writes what was promoted, with the commit pushed and the pull
request opened, as JSON: a pipeline's promote step hands it to the run's
lineage record.

With -e ENV (repeatable or comma-separated) only those environments change,
and every other one must serve exactly what it served before. A value written
in ENV's own overrides is edited in place; a value ENV shares with the base
entry gets an override under environments.ENV.overrides.serving.SERVING
instead (canary: null where a base canary must go). When the environments
named are all that have the entry, the base is edited as without -e.

Without --repo the files in DIR are edited in place. With --repo the spec is
edited in a temporary clone (DIR is then its directory inside the
repository), committed and pushed to --branch with the same retry on
concurrent pushes as 'kiln publish' (never forced), or with --github pushed
to a branch (default kiln/promote-<system>-<serving>, with -e: -<env>…
appended) with a pull request into --base. Credentials as for publish:
KILN_GIT_TOKEN and GITHUB_TOKEN.`,
		Example: `  kiln promote ./spec skin-lesion/classifier --model-uri s3://acme-models/skin/v9
  kiln promote ./spec skin-lesion/classifier --model-uri s3://acme-models/skin/v9 -e prod
  kiln promote specs/skin-lesion skin-lesion/classifier --model-uri s3://acme-models/skin/v9 --canary 10 \
      --repo https://github.com/acme/ml.git --github`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := args[len(args)-1]
			if len(args) == 2 {
				if cmd.Flags().Changed("spec") {
					return usageError{fmt.Errorf("the spec directory is given twice: as %q and as --spec %q", args[0], o.spec)}
				}
				o.spec = args[0]
			}
			sys, serving, ok := strings.Cut(target, "/")
			if !ok || sys == "" || serving == "" || strings.Contains(serving, "/") {
				return usageError{fmt.Errorf("want [DIR] SYSTEM/SERVING, such as ./spec skin-lesion/classifier; got %q", target)}
			}
			if o.modelURI == "" {
				return usageError{fmt.Errorf("--model-uri is required")}
			}
			req := promote.Request{System: sys, Serving: serving, ModelURI: o.modelURI, Environments: o.envs, Lineage: o.lineage, Verify: verify}
			if cmd.Flags().Changed("canary") {
				req.Canary = &o.canary
			}
			if o.git.repo == "" {
				if o.git.github {
					return usageError{fmt.Errorf("--github needs --repo")}
				}
				// Planning evaluates CUE, which a signal does not wait for;
				// only the write holds off the handler's exit.
				res, err := promote.Plan(cmd.Context(), o.spec, req)
				if err != nil {
					return a.promoteError(o.spec, err)
				}
				if err := a.guardWrite(cmd.Context(), func() error { return promote.Write(o.spec, res) }); err != nil {
					return a.promoteError(o.spec, err)
				}
				a.printEdits(filepath.ToSlash(o.spec), res)
				return o.writeResult(req, githubpr.PublishResult{})
			}
			if !filepath.IsLocal(filepath.FromSlash(o.spec)) {
				return usageError{fmt.Errorf("with --repo, the spec directory %q is its directory inside the repository and must be relative", o.spec)}
			}
			c := promote.NewCommit(req, o.spec, o.git.message)
			pushed, err := a.push(cmd.Context(), &o.git, o.git.headBranch(cmd, c.Branch), c.Subject, c.Body, c.Change, c.Comment)
			if err != nil {
				return a.promoteError(o.spec, err)
			}
			if res := c.Result(); res != nil {
				a.printEdits(filepath.ToSlash(o.spec), res)
			}
			return o.writeResult(req, pushed)
		},
	}
	o.git.addFlags(cmd, "branch to push to (with --github: the pull request's branch, default kiln/promote-<system>-<serving>)")
	cmd.Flags().StringVar(&o.modelURI, "model-uri", "", "storage URI of the new model (s3://, gs://, pvc:// or hf://)")
	cmd.Flags().IntVar(&o.canary, "canary", 0, "make the new model the canary with this percent of traffic (0-100)")
	cmd.Flags().StringVar(&o.spec, "spec", ".", "spec directory, as DIR (with --repo: inside the repository); the form promote steps use")
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "promote only in these environments (repeatable or comma-separated); the others keep what they serve")
	cmd.Flags().StringVar(&o.lineage, "lineage", "", "URI of the lineage record of the run that produced the model, written beside it (model.lineage or canary.lineage)")
	cmd.Flags().StringVar(&o.result, "result", "", "write what was promoted (entry, model, commit, pull request) to this file as JSON, for the run's lineage record")
	return cmd
}

// writeResult writes --result: the promotion, with the commit pushed and
// the pull request opened, if any.
func (o *promoteOptions) writeResult(req promote.Request, pushed githubpr.PublishResult) error {
	if o.result == "" {
		return nil
	}
	p := lineage.Promotion{
		Serving:     req.Serving,
		Environment: strings.Join(req.Environments, ","),
		ModelURI:    req.ModelURI,
		Canary:      req.Canary,
		Commit:      pushed.Commit,
	}
	if pr := pushed.PullRequest; pr != nil {
		p.PullRequest = pr.URL
	}
	return promotionResult(o.result, p)
}

// printEdits lists the changes made, one per line, on stderr.
func (a *app) printEdits(dir string, res *promote.Result) {
	if len(res.Files) == 0 {
		fmt.Fprintln(a.stderr, "nothing to change: the spec already says so")
		return
	}
	for _, e := range res.Edits {
		fmt.Fprintf(a.stderr, "%s: %s\n", filepath.ToSlash(filepath.Join(dir, e.Pos.String())), e.What)
	}
}

// promoteError prints problems found in the spec as diagnostics (exit 1),
// positions relative to the working directory; other errors go up as they
// are.
func (a *app) promoteError(dir string, err error) error {
	rel := func(l diag.List) diag.List {
		out := make(diag.List, len(l))
		for i, d := range l {
			if d.Pos.IsValid() {
				d.Pos.File = filepath.ToSlash(filepath.Join(dir, d.Pos.File))
			}
			out[i] = d
		}
		return out
	}
	var se *promote.SpecError
	if errors.As(err, &se) {
		fmt.Fprintf(a.stderr, "the spec %s has errors:\n", se.When)
		return a.report(diag.Text, rel(se.Diags))
	}
	var re *promote.RequestError
	if errors.As(err, &re) {
		return usageError{err}
	}
	var dl diag.List
	if errors.As(err, &dl) {
		return a.report(diag.Text, rel(dl))
	}
	return err
}

// verify renders an edited spec in memory, so a promotion kiln vet would
// refuse (a serving check, say) writes nothing.
func verify(ctx context.Context, sys *ir.System) diag.List {
	_, diags := render.Render(ctx, sys, render.Options{Renderers: plugins.Builtins()})
	return diags
}
