package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

type vetOptions struct {
	diag diagOptions
	envs []string
}

func (a *app) newVetCmd() *cobra.Command {
	var o vetOptions
	cmd := &cobra.Command{
		Use:   "vet [DIR]",
		Short: "Check a spec without writing anything",
		Long: `Vet loads the CUE package in DIR (default: the current directory), checks it
against kiln's schema and its own rules (references, cycles, names, GPU
budgets) and renders it in memory. Every problem is reported at once, with
file:line:col and the CUE path.`,
		Example: `  kiln vet examples/skin-lesion
  kiln vet -o json ./spec
  kiln vet -o github ./spec   # annotations on the pull request in GitHub Actions`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.diag.parse()
			if err != nil {
				return err
			}
			res, diags, err := build(cmd.Context(), specDir(args), o.envs)
			if err != nil {
				return err
			}
			if err := a.report(f, diags); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "ok: %s, %d objects\n", envSummary(res), countObjects(res))
			return nil
		},
	}
	o.diag.addFlags(cmd)
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "check only these environments (repeatable or comma-separated)")
	return cmd
}
