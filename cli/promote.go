package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
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
}

func (a *app) newPromoteCmd() *cobra.Command {
	var o promoteOptions
	cmd := &cobra.Command{
		Use:   "promote SYSTEM/SERVING --model-uri URI [--canary N] [-e ENV]",
		Short: "Roll a new model version into the spec's CUE source, locally or through Git",
		Long: `Promote changes the serving entry SERVING of system SYSTEM in the spec's CUE
source, keeping comments and layout (cue/format), and checks that the edited
spec still vets before writing it.

Without --canary the model is replaced: model.storageUri becomes URI in every
environment (the base entry and any override that sets it) and every canary is
removed. With --canary N the new model becomes the canary: where an environment
already has a canary, its storageUri and percent are set (in the base entry or
the override that defines it, and a stated stablePercent to 100-N); where none has one, canary: {storageUri, percent}
is added to the base entry. The stable model is left as it is; promoting again
without --canary makes the new model the stable one.

With -e ENV (repeatable or comma-separated) only those environments change,
and every other one must serve exactly what it served before. A value written
in ENV's own overrides is edited in place; a value ENV shares with the base
entry gets an override under environments.ENV.overrides.serving.SERVING
instead (canary: null where a base canary must go). When the environments
named are all that have the entry, the base is edited as without -e.

Without --repo the files in --spec are edited in place. With --repo the spec is
edited in a temporary clone (at --spec inside it), committed and pushed to
--branch with the same retry on concurrent pushes as 'kiln publish' (never
forced), or with --github pushed to a branch (default
kiln/promote-<system>-<serving>, with -e: -<env>… appended) with a pull
request into --base. Credentials as
for publish: KILN_GIT_TOKEN and GITHUB_TOKEN.`,
		Example: `  kiln promote skin-lesion/classifier --model-uri s3://acme-models/skin/v9 --spec ./spec
  kiln promote skin-lesion/classifier --model-uri s3://acme-models/skin/v9 -e prod --spec ./spec
  kiln promote skin-lesion/classifier --model-uri s3://acme-models/skin/v9 --canary 10 \
      --repo https://github.com/acme/ml.git --spec specs/skin-lesion --github`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sys, serving, ok := strings.Cut(args[0], "/")
			if !ok || sys == "" || serving == "" || strings.Contains(serving, "/") {
				return usageError{fmt.Errorf("want SYSTEM/SERVING, such as skin-lesion/classifier; got %q", args[0])}
			}
			if o.modelURI == "" {
				return usageError{fmt.Errorf("--model-uri is required")}
			}
			req := promote.Request{System: sys, Serving: serving, ModelURI: o.modelURI, Environments: o.envs, Verify: verify}
			if cmd.Flags().Changed("canary") {
				req.Canary = &o.canary
			}
			if o.git.repo == "" {
				if o.git.github {
					return usageError{fmt.Errorf("--github needs --repo")}
				}
				res, err := promote.Apply(cmd.Context(), o.spec, req)
				if err != nil {
					return a.promoteError(o.spec, err)
				}
				a.printEdits(filepath.ToSlash(o.spec), res)
				return nil
			}
			if !filepath.IsLocal(filepath.FromSlash(o.spec)) {
				return usageError{fmt.Errorf("with --repo, --spec %q is the spec's directory inside the repository and must be relative", o.spec)}
			}
			c := promote.NewCommit(req, o.spec, o.git.message)
			err := a.push(cmd.Context(), &o.git, o.git.headBranch(cmd, c.Branch), c.Subject, c.Body, c.Change, c.Comment)
			if err != nil {
				return a.promoteError(o.spec, err)
			}
			if res := c.Result(); res != nil {
				a.printEdits(filepath.ToSlash(o.spec), res)
			}
			return nil
		},
	}
	o.git.addFlags(cmd, "branch to push to (with --github: the pull request's branch, default kiln/promote-<system>-<serving>)")
	cmd.Flags().StringVar(&o.modelURI, "model-uri", "", "storage URI of the new model (s3://, gs://, pvc:// or hf://)")
	cmd.Flags().IntVar(&o.canary, "canary", 0, "make the new model the canary with this percent of traffic (0-100)")
	cmd.Flags().StringVar(&o.spec, "spec", ".", "spec directory (with --repo: inside the repository)")
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "promote only in these environments (repeatable or comma-separated); the others keep what they serve")
	return cmd
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
