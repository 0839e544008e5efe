package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/write"
)

type renderOptions struct {
	diag   diagOptions
	envs   []string
	out    string
	stdout bool
	dryRun bool
}

func (a *app) newRenderCmd() *cobra.Command {
	var o renderOptions
	cmd := &cobra.Command{
		Use:   "render [DIR]",
		Short: "Compile a spec into manifests",
		Long: `Render compiles the spec in DIR (default: the current directory) and writes one
file per object to <out>/<environment>/<system>/, with a kustomization.yaml per
environment. The same spec always gives the same bytes.

Writing is all or nothing: when the spec has errors nothing is written and the
previous output is left as it was. kiln keeps an index of the files it wrote
(<out>/.kiln-index); it deletes only those, when they become stale, and never
touches files it did not generate.`,
		Example: `  kiln render examples/skin-lesion
  kiln render -e prod --out deploy ./spec
  kiln render --stdout ./spec | kubectl apply --dry-run=server -f -`,
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
			if o.stdout {
				b, err := render.Stream(res)
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(b)
				return err
			}
			files, err := render.Files(res)
			if err != nil {
				return err
			}
			sysName := res.System.Name
			var prefixes []string
			for _, e := range res.Environments {
				prefixes = append(prefixes, e.Dir+"/")
			}
			scope := func(p string) bool {
				if len(o.envs) > 0 {
					for _, pre := range prefixes {
						if strings.HasPrefix(p, pre) {
							return true
						}
					}
					return false
				}
				// Every environment of this system, including ones the
				// spec no longer has.
				parts := strings.SplitN(p, "/", 3)
				return len(parts) == 3 && parts[1] == sysName
			}
			r, err := write.Tree(o.out, files, write.Options{Scope: scope, DryRun: o.dryRun})
			if err != nil {
				return err
			}
			verb := "wrote"
			if o.dryRun {
				verb = "would write"
			}
			fmt.Fprintf(a.stderr, "%s %s: %d created, %d updated, %d deleted, %d unchanged\n", verb, o.out, len(r.Created), len(r.Updated), len(r.Deleted), len(r.Unchanged))
			return nil
		},
	}
	o.diag.addFlags(cmd)
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "render only these environments (repeatable or comma-separated)")
	cmd.Flags().StringVar(&o.out, "out", "deploy", "output directory")
	cmd.Flags().BoolVar(&o.stdout, "stdout", false, "write one YAML stream to stdout instead of files")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "report what would change without writing")
	return cmd
}
