package cli

import (
	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/compiler"
)

func (a *app) newSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the reference of the spec schema",
		Long: `Schema prints every definition of kiln's CUE schema with its documentation,
and each field with its type, constraints and default, starting with #System.
A nested field is listed under its path (canary.percent, parameters.<name>.default).
A field ending in ! is required, one ending in ? is optional, and *value
marks a default.`,
		Example: `  kiln schema | less
  kiln schema | grep -A3 'workers'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return compiler.WriteReference(a.stdout)
		},
	}
}
