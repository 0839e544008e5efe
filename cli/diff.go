package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/diff"
	"github.com/kiln-ml/kiln/render"
)

type diffOptions struct {
	diag     diagOptions
	envs     []string
	out      string
	exitCode bool
	summary  bool
}

func (a *app) newDiffCmd() *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff [DIR]",
		Short: "Show what a fresh render would change in the committed output",
		Long: `Diff renders the spec in DIR (default: the current directory) in memory and
compares it with the output directory (--out) as committed: the objects that
would be added, changed or removed (matched by environment, kind, namespace and
name as parsed from the files), a summary with object counts per kind and GPU
requests per environment before → after, and a unified diff of every file.

GPU requests sum nvidia.com/gpu and nvidia.com/mig-* over every container of
every pod template, each the larger of its request and limit, times the
replicas of its replica spec (minReplicas for autoscaled serving).

Only files kiln generated (those in <out>/.kiln-index) are compared, so
hand-written files beside them never show up as removed. Nothing is written.
With --exit-code the command exits 1 when there are changes.`,
		Example: `  kiln diff examples/skin-lesion
  kiln diff -e prod --summary ./spec
  kiln diff --exit-code --out deploy ./spec || echo "output is stale"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.diag.parse()
			if err != nil {
				return err
			}
			rep, diags, err := diffTree(cmd.Context(), specDir(args), o.envs, o.out)
			if err != nil {
				return err
			}
			if err := a.report(f, diags); err != nil || rep == nil {
				return err
			}
			if err := rep.WriteSummary(a.stdout); err != nil {
				return err
			}
			if !o.summary && rep.Changed() {
				if _, err := a.stdout.Write([]byte("\n")); err != nil {
					return err
				}
				if err := rep.WriteUnified(a.stdout); err != nil {
					return err
				}
			}
			if o.exitCode && rep.Changed() {
				return changesError{}
			}
			return nil
		},
	}
	o.diag.addFlags(cmd)
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "compare only these environments (repeatable or comma-separated)")
	cmd.Flags().StringVar(&o.out, "out", "deploy", "output directory holding the committed output")
	cmd.Flags().BoolVar(&o.exitCode, "exit-code", false, "exit with 1 when there are changes")
	cmd.Flags().BoolVar(&o.summary, "summary", false, "print the summary only, without the unified diff")
	return cmd
}

// changesError is `kiln diff --exit-code` finding changes: exit code 1,
// nothing more to print.
type changesError struct{}

func (changesError) Error() string { return "changes found" }

// freshTree compiles and renders the spec in memory and returns the file
// tree with the scope a write of it would have: every environment of the
// system, or only those asked for.
func freshTree(ctx context.Context, dir string, envs []string) (*render.Result, map[string][]byte, func(string) bool, diag.List, error) {
	res, diags, err := build(ctx, dir, envs)
	if err != nil || res == nil {
		return nil, nil, nil, diags, err
	}
	files, err := render.Files(res)
	if err != nil {
		return nil, nil, nil, diags, err
	}
	return res, files, renderScope(res, len(envs) > 0), diags, nil
}

// diffTree compares a fresh render with the output under out. The report
// is nil when the spec has errors (returned in the list).
func diffTree(ctx context.Context, dir string, envs []string, out string) (*diff.Report, diag.List, error) {
	_, files, scope, diags, err := freshTree(ctx, dir, envs)
	if err != nil || files == nil {
		return nil, diags, err
	}
	old, err := diff.ReadTree(out, scope)
	if err != nil {
		return nil, diags, err
	}
	return diff.Compare(old, files), diags, nil
}
