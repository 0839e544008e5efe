package cli

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/diff"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/write"
)

// goneSystems finds the systems an output holds that a full render of
// args, which built the named systems from dirs, no longer produces: the index records the spec directory each
// system came from (write.Options.Sources), and a system whose directory
// this render covers — a directory it rendered, or one at or below the
// root of a DIR/... pattern — but which no system of this render is named
// after, was deleted or renamed. Its directories, <env>/<system>/ and
// argocd/<system>/, are then stale and in the write's scope, as Argo CD
// would otherwise go on deploying it. Systems rendered from elsewhere (a
// separate render into the same output) are left alone.
//
// It returns the scope of the gone systems' files and the sources to
// record: the old ones, less the gone systems, with this render's.
func goneSystems(out string, args []string, systems []string, dirs []string) (func(string) bool, map[string]string, error) {
	if len(systems) != len(dirs) {
		// Only a render where every spec built knows what it covers.
		return nil, nil, fmt.Errorf("internal error: %d systems rendered from %d spec directories", len(systems), len(dirs))
	}
	old, err := write.ReadSources(out)
	if err != nil {
		return nil, nil, err
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return nil, nil, err
	}
	sources := map[string]string{}
	rendered := map[string]bool{}
	for i, name := range systems {
		rendered[name] = true
		abs, err := filepath.Abs(dirs[i])
		if err != nil {
			return nil, nil, err
		}
		if rel, err := filepath.Rel(absOut, abs); err == nil {
			sources[name] = filepath.ToSlash(rel)
		}
	}
	var covered, roots []string
	for _, d := range dirs {
		if abs, err := filepath.Abs(d); err == nil {
			covered = append(covered, abs)
		}
	}
	for _, arg := range args {
		if root, ok := strings.CutSuffix(arg, "..."); ok {
			if root = strings.TrimSuffix(root, "/"); root == "" {
				root = "."
			}
			if abs, err := filepath.Abs(root); err == nil {
				roots = append(roots, abs)
			}
		}
	}
	gone := map[string]bool{}
	for name, src := range old {
		if rendered[name] {
			continue
		}
		abs := filepath.Join(absOut, filepath.FromSlash(src))
		if !isCovered(abs, covered, roots) {
			sources[name] = src
			continue
		}
		gone[name] = true
	}
	scope := func(p string) bool {
		// <env>/<system>/... and argocd/<system>/... alike.
		parts := strings.SplitN(p, "/", 3)
		return len(parts) == 3 && gone[parts[1]]
	}
	return scope, sources, nil
}

// isCovered reports whether the spec directory abs is one of dirs or at
// or below one of roots.
func isCovered(abs string, dirs, roots []string) bool {
	for _, d := range dirs {
		if abs == d {
			return true
		}
	}
	for _, r := range roots {
		if rel, err := filepath.Rel(r, abs); err == nil && filepath.IsLocal(rel) || abs == r {
			return true
		}
	}
	return false
}

// goneDrift reports, as check's drift, the committed files of systems a
// render of args would delete as gone (see goneSystems).
func goneDrift(out string, args []string, results []*render.Result, dirs []string) (diag.List, error) {
	names := make([]string, len(results))
	for i, res := range results {
		names[i] = res.System.Name
	}
	gone, _, err := goneSystems(out, args, names, dirs)
	if err != nil {
		return nil, err
	}
	committed, err := diff.ReadTree(out, gone)
	if err != nil {
		return nil, err
	}
	var diags diag.List
	for _, p := range slices.Sorted(maps.Keys(committed)) {
		pos := diag.Pos{File: filepath.ToSlash(filepath.Join(out, p))}
		diags.Errorf(pos, "", "drift: stale, system %s is no longer rendered from the specs checked (its spec was removed or renamed); run 'kiln render' and commit", strings.SplitN(p, "/", 3)[1])
	}
	return diags, nil
}
