package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argocd"
	"github.com/kiln-ml/kiln/render/write"
)

type renderOptions struct {
	diag   diagOptions
	envs   []string
	out    string
	stdout bool
	dryRun bool
	stats  bool
}

func (a *app) newRenderCmd() *cobra.Command {
	var o renderOptions
	cmd := &cobra.Command{
		Use:   "render [DIR...]",
		Short: "Compile a spec into manifests",
		Long: `Render compiles the spec in DIR (default: the current directory) and writes one
file per object to <out>/<environment>/<system>/, with a kustomization.yaml per
environment. The same spec always gives the same bytes.

A spec with a gitops section also gets its Argo CD objects in
<out>/argocd/<system>/ (an AppProject, one Application per environment, a
kustomization.yaml to apply them with kubectl apply -k, and argocd-cm-health.yaml,
Lua health checks to merge into Argo CD's argocd-cm). They describe every
environment, so a render limited with -e leaves them as they are, and --stdout
(which the Argo CD plugin uses) leaves them out.

Several spec directories, or DIR/... for every spec at or below DIR, render
into one output directory in one write, each system into its own
<environment>/<system>/ and argocd/<system>/ directories, after the checks
vet makes across systems (no namespace, expose host or object claimed by two
systems on one cluster, no two systems of one name). The output of each
system is the same bytes it has when rendered alone.

--stdout prints the objects of one environment as one YAML stream for kubectl
apply -f - (each environment is meant for its own namespace or cluster): a
system with several environments needs -e naming one of them. Diagnostics go
to stderr as text with it, so stdout holds nothing but the stream.

Writing is all or nothing: when the spec has errors nothing is written and the
previous output is left as it was. kiln keeps an index of the files it wrote
(<out>/.kiln-index); it deletes only those, when they become stale, and never
touches files it did not generate. The index also records the spec directory
each system was rendered from: a full render (no -e) of that directory, or of
a DIR/... above it, that no longer produces the system (its spec was removed
or renamed) deletes the system's files.

Each system built is kept in a cache (KILN_CACHE, default kiln/ in the
user's cache directory; KILN_CACHE=off disables it), keyed by the kiln
binary, the options, CUE_EXPERIMENT and CUE_DEBUG and the bytes of every
file the spec can read (its package, the module's cue.mod and the packages
it imports): a system whose inputs did not change is read back, its files,
warnings and cross-system checks the same as a build's. The cache also
records which bytes each render left in its output directory, and how to
tell they are still there without reading them. Deleting the cache
changes no output. --stats says how many systems it served.`,
		Example: `  kiln render examples/skin-lesion
  kiln render -e prod --out deploy ./spec
  kiln render --out deploy ./...   # every spec in the repository
  kiln render --stdout -e prod ./spec | kubectl apply --dry-run=server -f -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.diag.parse()
			if err != nil {
				return err
			}
			if o.stdout {
				if f != diag.Text {
					return usageError{fmt.Errorf("--stdout prints YAML on stdout and its diagnostics as text on stderr: -o %s would mix with it", f)}
				}
				if envs := slices.Compact(slices.Sorted(slices.Values(o.envs))); len(envs) > 1 {
					return usageError{fmt.Errorf("--stdout prints one environment; -e names %d (%s)", len(envs), strings.Join(envs, ", "))}
				}
			}
			dirs, err := specDirs(args)
			if err != nil {
				return err
			}
			if o.stdout && len(dirs) > 1 {
				return usageError{fmt.Errorf("--stdout prints one environment of one system; %d spec directories given (%s)", len(dirs), strings.Join(dirs, ", "))}
			}
			var st *stats
			if o.stats {
				st = &stats{begin: time.Now()}
				// Printed however the render ends, after its own
				// messages: a failed render's time went somewhere too.
				defer func() { st.print(a.stderr) }()
			}
			mode := buildFiles
			var stage *write.Stage
			if o.stdout {
				mode = buildResult
			} else {
				// Each file goes to disk, staged, as soon as it is
				// encoded, so that a large system's files are never
				// all in memory; the stage is committed below, or,
				// when anything fails first, discarded, leaving the
				// output as it was.
				stage = write.NewStage(o.out, o.dryRun)
				defer stage.Discard()
				a.discardOnSignal(stage)
				// What an earlier render left in the output, to
				// skip reading the files it proves unchanged.
				useOutputRecord(stage, o.out)
			}
			results, diags, err := buildAll(cmd.Context(), dirs, o.envs, mode, st, stage)
			if err != nil {
				return err
			}
			if stage != nil {
				st.compared(stage.Compared())
			}
			if err := a.report(f, diags); err != nil {
				return err
			}
			if o.stdout {
				res := results[0].res
				if n := len(res.Environments); n > 1 {
					names := make([]string, n)
					for i, e := range res.Environments {
						names[i] = e.Name
					}
					return usageError{fmt.Errorf("--stdout prints one environment, for kubectl apply -f -; %s has %d (%s): name one with -e", res.System.Name, n, strings.Join(names, ", "))}
				}
				// Encoded whole before a byte is written (render.Stream),
				// so the encode phase holds the write too, which is
				// only copying.
				stop := st.start(encodePhase)
				err := render.Stream(a.stdout, res)
				stop()
				return err
			}
			// Several systems are written at once, into one tree with
			// one index: each owns its own directories (renderScope),
			// and fleet made sure no two share a name. Their files were
			// encoded and staged as they were built (the encode phase),
			// or read from the render cache.
			var scopes []func(string) bool
			objects := 0
			for _, b := range results {
				scopes = append(scopes, renderScope(b.Name, b.Envs, len(o.envs) > 0))
				objects += b.Objects
			}
			var sources map[string]string
			if len(o.envs) == 0 {
				names := make([]string, len(results))
				for i, b := range results {
					names[i] = b.Name
				}
				gone, srcs, err := goneSystems(o.out, args, names, dirs)
				if err != nil {
					return err
				}
				scopes, sources = append(scopes, gone), srcs
			}
			scope := func(p string) bool {
				return slices.ContainsFunc(scopes, func(in func(string) bool) bool { return in(p) })
			}
			var r write.Result
			memProfile("write")
			stop := st.start(writePhase)
			err = a.guardWrite(cmd.Context(), func() (err error) {
				r, err = stage.Commit(write.Options{Scope: scope, DryRun: o.dryRun, Stop: cmd.Context().Done(), Sources: sources})
				return err
			})
			stop()
			if err != nil {
				return err
			}
			saveOutputRecord(o.out, stage.Record())
			verb := "wrote"
			if o.dryRun {
				verb = "would write"
			}
			// Files, not objects, are what a write creates and deletes;
			// the objects are those vet and check count.
			fmt.Fprintf(a.stderr, "%s %s: %d files (%d objects + %d kustomization.yaml and config files): %d created, %d updated, %d deleted, %d unchanged\n",
				verb, o.out, stage.Len(), objects, stage.Len()-objects, len(r.Created), len(r.Updated), len(r.Deleted), len(r.Unchanged))
			return nil
		},
	}
	o.diag.addFlags(cmd)
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "render only these environments (repeatable or comma-separated)")
	cmd.Flags().StringVar(&o.out, "out", "deploy", "output directory")
	cmd.Flags().BoolVar(&o.stdout, "stdout", false, "write the objects of one environment (-e) as one YAML stream to stdout instead of files")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "report what would change without writing")
	cmd.Flags().BoolVar(&o.stats, "stats", false, "print on stderr where the time went (load, evaluate, environments, decode, checks, render, encode, write), the render cache's hits and misses, how many files were read to compare them with the output, and the peak memory")
	return cmd
}

// renderScope says which previously generated files a render owns, and so
// may delete when it no longer produces them: a partial render (-e) owns
// its environments' directories; a full one every <env>/<system>/
// directory of the system, including environments the spec no longer has,
// and the system's Argo CD directory, argocd/<system>/, which only a full
// render writes (its objects describe every environment).
func renderScope(sysName string, envs []builtEnv, partial bool) func(string) bool {
	var prefixes []string
	for _, e := range envs {
		prefixes = append(prefixes, e.Dir+"/")
	}
	return func(p string) bool {
		if partial {
			for _, pre := range prefixes {
				if strings.HasPrefix(p, pre) {
					return true
				}
			}
			return false
		}
		if strings.HasPrefix(p, argocd.Dir+"/"+sysName+"/") {
			return true
		}
		parts := strings.SplitN(p, "/", 3)
		return len(parts) == 3 && parts[1] == sysName
	}
}
