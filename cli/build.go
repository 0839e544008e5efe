package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/policy"
)

// build compiles the spec in dir and renders it in memory: everything kiln
// checks, without writing anything.
func build(ctx context.Context, dir string, envs []string) (*render.Result, diag.List, error) {
	return buildWithStats(ctx, dir, envs, nil)
}

// buildWithStats is build, adding where the time went to st when it is
// not nil.
func buildWithStats(ctx context.Context, dir string, envs []string, st *stats) (*render.Result, diag.List, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("spec directory: %w", err)
	} else if !fi.IsDir() {
		return nil, nil, fmt.Errorf("spec directory: %s is not a directory", dir)
	}
	var cst *compiler.Stats
	if st != nil {
		cst = &st.Compile
	}
	sys, diags := compiler.Compile(ctx, dir, compiler.Options{Environments: envs, Stats: cst})
	if err := ctx.Err(); err != nil {
		// Interrupted: what the compiler says about it is no finding.
		return nil, nil, err
	}
	if err := unknownEnvironments(diags, envs); err != nil {
		return nil, nil, err
	}
	if diags.HasErrors() {
		return nil, diags, nil
	}
	diags = append(diags, scheduleWarnings(sys)...)
	memProfile("render")
	stop := st.start(renderPhase)
	res, rdiags := render.Render(ctx, sys, render.Options{Renderers: plugins.Builtins(), Partial: len(envs) > 0})
	stop()
	if res != nil {
		rdiags = append(rdiags, policy.Check(res)...)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	diags = append(diags, rdiags...).Sort()
	if diags.HasErrors() {
		return nil, diags, nil
	}
	return res, diags, nil
}

// unknownEnvironments turns the compiler's report of an environment named
// with -e that the spec does not have into a usage error: the command line
// is wrong, not the spec, so every command that takes -e exits 2 for it,
// as promote does. The compiler reports it on the path environments with
// no position (a position would be in the spec).
func unknownEnvironments(diags diag.List, envs []string) error {
	if len(envs) == 0 {
		return nil
	}
	var msgs []string
	for _, d := range diags {
		if d.Severity == diag.Error && d.Path == "environments" && !d.Pos.IsValid() && strings.HasPrefix(d.Msg, "no environment ") {
			msgs = append(msgs, d.Msg)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return usageError{fmt.Errorf("-e: %s", strings.Join(msgs, "; "))}
}

// scheduleWarnings warns about scheduled pipelines and sweeps whose runs
// fall in an hour that a daylight saving change skips or repeats in their
// timezone, at the schedule's position in each environment (identical
// warnings from several environments are merged).
func scheduleWarnings(sys *ir.System) diag.List {
	var out diag.List
	for _, env := range sys.Environments {
		warn := func(path string, s *ir.Schedule) {
			if w := argo.DSTWarning(s); w != "" {
				out.Add(diag.Warnf(env.Sources.Pos(path), path, "%s", w))
			}
		}
		for e := range ir.Entries(env.Spec) {
			if e.Schedule != nil {
				warn(ir.Join(e.Path, "schedule"), e.Schedule)
			}
		}
	}
	return out
}

// countObjects is the number of cluster objects a render holds: those of
// every environment and the system-level ones (Argo CD's AppProject and
// Applications). vet, check and render count the same thing with it;
// render's file count adds each directory's kustomization.yaml and
// Argo CD's argocd-cm-health.yaml, which are no cluster objects.
func countObjects(res *render.Result) int {
	n := 0
	for _, e := range res.Environments {
		n += len(e.Items)
	}
	for _, d := range res.Dirs {
		n += len(d.Items)
	}
	return n
}

// envsOf is the names and output directories of res's environments.
func envsOf(res *render.Result) []builtEnv {
	var envs []builtEnv
	for _, e := range res.Environments {
		envs = append(envs, builtEnv{e.Name, e.Dir})
	}
	return envs
}

// envSummary names the system and its environments: "demo: 2
// environments (dev, prod)".
func envSummary(system string, built []builtEnv) string {
	var envs []string
	for _, e := range built {
		envs = append(envs, e.Name)
	}
	noun := "environments"
	if len(envs) == 1 {
		noun = "environment"
	}
	return fmt.Sprintf("%s: %d %s (%s)", system, len(envs), noun, strings.Join(envs, ", "))
}

func specDir(args []string) string {
	if len(args) == 0 {
		return "."
	}
	return args[0]
}
