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
		Use:   "vet [DIR...]",
		Short: "Check a spec without writing anything",
		Long: `Vet loads the CUE package in DIR (default: the current directory), checks it
against kiln's schema and its own rules (references, cycles, names, GPU
budgets) and renders it in memory. Every problem is reported at once, with
file:line:col and the CUE path.

Several directories, or DIR/... for every spec at or below DIR, are checked
each on its own and then together: two systems must not claim one
namespace, expose host or object on a cluster, nor share a name.

A system whose inputs did not change since an earlier vet or render is read
from render's cache (see kiln render --help), with the same findings.`,
		Example: `  kiln vet examples/skin-lesion
  kiln vet ./...              # every spec in the repository, and their conflicts
  kiln vet -o json ./spec
  kiln vet -o github ./spec   # annotations on the pull request in GitHub Actions`,

		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.diag.parse()
			if err != nil {
				return err
			}
			dirs, err := specDirs(args)
			if err != nil {
				return err
			}
			results, diags, err := buildAll(cmd.Context(), dirs, o.envs, buildVet, nil, nil)
			if err != nil {
				return err
			}
			if err := a.report(f, diags); err != nil {
				return err
			}
			for _, b := range results {
				fmt.Fprintf(a.stderr, "ok: %s, %d objects\n", envSummary(b.Name, b.Envs), b.Objects)
			}
			return nil
		},
	}
	o.diag.addFlags(cmd)
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "check only these environments (repeatable or comma-separated)")
	return cmd
}
