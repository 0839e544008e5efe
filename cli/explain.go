package cli

import (
	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/explain"
)

type explainOptions struct {
	diag diagOptions
	envs []string
}

func (a *app) newExplainCmd() *cobra.Command {
	var o explainOptions
	cmd := &cobra.Command{
		Use:   "explain [DIR] PATH",
		Short: "Show the value a CUE path has in each environment, and where it came from",
		Long: `Explain compiles the spec in DIR (default: the current directory) and prints, for
each environment, the value at PATH (a CUE path as diagnostics print it, such as
training.resnet.workers or serving.classifier.replicas) and where that value was
set: the file:line:col of the base spec, or of the environment's override that
replaced it, or the schema's default when the spec does not say.

Paths under environments.<name> are the same in every environment and are
printed once.`,
		Example: `  kiln explain examples/skin-lesion training.resnet.workers
  kiln explain -e prod examples/skin-lesion serving.classifier
  kiln explain environments.prod.sync`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.diag.parse()
			if err != nil {
				return err
			}
			dir, path := ".", args[0]
			if len(args) == 2 {
				dir, path = args[0], args[1]
			}
			if _, err := explain.SplitPath(path); err != nil {
				return usageError{err}
			}
			// The whole build, not only the compile: a spec that
			// does not render has no value worth explaining yet.
			res, diags, err := build(cmd.Context(), dir, o.envs)
			if err != nil {
				return err
			}
			pending, err := a.reportBefore(f, diags)
			if err != nil {
				return err
			}
			sys := res.System
			ex, err := explain.Path(sys, path)
			if err != nil {
				// Point at the nearest enclosing value the spec
				// wrote: usually where a typo is.
				l := pending
				l.Errorf(sys.Sources.Pos(path), path, "%v", err)
				return a.report(f, l)
			}
			if f == diag.JSON {
				return a.writeJSON(pending, "explanation", ex)
			}
			return ex.WriteText(a.stdout)
		},
	}
	o.diag.addFlags(cmd)
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "explain only these environments (repeatable or comma-separated)")
	return cmd
}
