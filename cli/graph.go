package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/graph"
)

type graphOptions struct {
	envs   []string
	format string
}

func (a *app) newGraphCmd() *cobra.Command {
	var o graphOptions
	cmd := &cobra.Command{
		Use:   "graph [DIR]",
		Short: "Draw the system: datasets, pipelines, training, models and serving",
		Long: `Graph compiles the spec in DIR (default: the current directory) and prints a
picture of how data flows through it, one box per environment: datasets into
pipeline steps and training jobs, promote steps into the endpoints they roll
out, models into the endpoints serving them (with the canary's share), sweeps
into the jobs they tune, notebooks beside the datasets they mount.

-o mermaid (the default) prints a Mermaid flowchart, which GitHub renders in
Markdown files, pull requests and comments inside a mermaid code block; -o dot
prints Graphviz input; -o svg prints an image, drawn by kiln itself. The same
spec always gives the same bytes. Diagnostics go to stderr.`,
		Example: `  kiln graph examples/skin-lesion
  kiln graph -o svg examples/skin-lesion > skin-lesion.svg
  kiln graph -o dot -e prod ./spec | dot -Tpng > prod.png`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(graph.Formats, o.format) {
				return usageError{fmt.Errorf("-o %s: want one of %s", o.format, strings.Join(graph.Formats, ", "))}
			}
			res, diags, err := build(cmd.Context(), specDir(args), o.envs)
			if err != nil {
				return err
			}
			if err := a.report(diag.Text, diags); err != nil {
				return err
			}
			return graph.Build(res.System).Write(a.stdout, o.format)
		},
	}
	cmd.Flags().StringVarP(&o.format, "output", "o", "mermaid", "picture format: "+strings.Join(graph.Formats, ", "))
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "draw only these environments (repeatable or comma-separated)")
	return cmd
}
