package cli

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/fleet"
	"github.com/kiln-ml/kiln/par"
	"github.com/kiln-ml/kiln/render/write"
)

// Several systems, one repository. vet, render and check take any number
// of spec directories; DIR/... names every spec at or below DIR
// (compiler.FindSpecs). Each system is built on its own, then, when all of
// them are free of errors, fleet checks them together (one namespace,
// expose host or object claimed by two systems on a cluster).

// specDirs expands the spec directories of a command line: none is the
// current directory; DIR/... (or ...) every spec at or below DIR, sorted.
// A directory named twice is built once, where it first appears.
func specDirs(args []string) ([]string, error) {
	if len(args) == 0 {
		return []string{"."}, nil
	}
	var dirs []string
	for _, arg := range args {
		root, recursive := strings.CutSuffix(arg, "...")
		if !recursive {
			dirs = append(dirs, arg)
			continue
		}
		root = strings.TrimSuffix(root, "/")
		if root == "" {
			root = "."
		}
		var memo compiler.SpecMemo // nil, not a nil *specMemo, when off
		m := openSpecMemo(root)
		if m != nil {
			memo = m
		}
		found, err := compiler.FindSpecsMemo(root, memo)
		if m != nil && err == nil {
			m.close()
		}
		if err != nil {
			return nil, fmt.Errorf("finding specs in %s: %w", root, err)
		}
		if len(found) == 0 {
			return nil, usageError{fmt.Errorf("%s: no spec at or below %s (a spec's .cue files declare name or environments)", arg, root)}
		}
		dirs = append(dirs, found...)
	}
	var out []string
	for _, d := range dirs {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// buildAll builds every spec in dirs (see build), or reads it from the
// render cache (buildCached), keeping what mode says of each (with
// buildFiles, putting their files in stage as they come), and, when
// none has errors, checks them together. The results are those of the
// specs that built, in the order of dirs; the diagnostics are everyone's,
// sorted.
//
// Systems are built in parallel (GOMAXPROCS at a time), each into its own
// slot, and taken in the order of dirs, so nothing depends on scheduling.
// With --stats, each system's phases are added up: with several systems
// the phases may sum to more than the wall-clock total.
func buildAll(ctx context.Context, dirs []string, envs []string, mode buildMode, st *stats, stage *write.Stage) ([]*built, diag.List, error) {
	var sc *systemCache
	if mode != buildResult {
		sc = openSystemCache()
		defer sc.close()
	}
	type slot struct {
		b     *built
		diags diag.List
		err   error
		st    *stats
		hit   cacheOutcome
	}
	slots := make([]slot, len(dirs))
	par.Each(runtime.GOMAXPROCS(0), len(dirs), func(i int) {
		s := &slots[i]
		if st != nil {
			s.st = &stats{}
		}
		s.b, s.diags, s.hit, s.err = buildCached(ctx, sc, dirs[i], envs, mode, s.st, stage)
	})
	var results []*built
	var diags diag.List
	for _, s := range slots {
		if s.err != nil {
			return nil, nil, s.err
		}
		st.add(s.st)
		sc.count(s.hit)
		diags = append(diags, s.diags...)
		if s.b != nil {
			results = append(results, s.b)
		}
	}
	if mode != buildResult {
		st.cached(sc)
	}
	if !diags.HasErrors() {
		sums := make([]fleet.System, len(results))
		for i, b := range results {
			sums[i] = b.Fleet
		}
		diags = append(diags, fleet.CheckSystems(sums)...)
	}
	return results, diags.Sort(), nil
}
