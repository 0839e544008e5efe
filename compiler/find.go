package compiler

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
)

// FindSpecs returns the spec directories at or below root, sorted: what
// `kiln vet root/...` checks. Like the go command's ./..., it skips
// directories named testdata or starting with "." or "_", and CUE's
// cue.mod. A directory is a spec when one of its .cue files declares the
// system's name or environments at the top level, directly or inside an
// embedded value (schema.#System & {name: …}); a package of shared
// definitions or policies, imported by the specs, declares neither.
// Files that do not parse make their directory a spec, so that vet
// reports the syntax error rather than skipping it.
func FindSpecs(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if p != root && (name == "testdata" || name == "cue.mod" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		spec, err := isSpecDir(p)
		if err != nil {
			return err
		}
		if spec {
			dirs = append(dirs, p)
		}
		return nil
	})
	slices.Sort(dirs)
	return dirs, err
}

// isSpecDir reports whether dir holds a spec (see FindSpecs).
func isSpecDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".cue" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return false, err
		}
		f, err := parser.ParseFile(e.Name(), src)
		if err != nil {
			return true, nil
		}
		for _, decl := range f.Decls {
			if declaresSystem(decl) {
				return true, nil
			}
		}
	}
	return false, nil
}

// declaresSystem reports whether a top-level declaration is a field name
// or environments, or embeds a struct (or a unification with one) that
// has one.
func declaresSystem(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.Field:
		name, _, _ := ast.LabelName(n.Label)
		return name == "name" || name == "environments"
	case *ast.EmbedDecl:
		return declaresSystem(n.Expr)
	case *ast.BinaryExpr:
		return declaresSystem(n.X) || declaresSystem(n.Y)
	case *ast.ParenExpr:
		return declaresSystem(n.X)
	case *ast.StructLit:
		for _, d := range n.Elts {
			if declaresSystem(d) {
				return true
			}
		}
	}
	return false
}
