package compiler

import (
	"crypto/sha256"
	"encoding/binary"
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
func FindSpecs(root string) ([]string, error) { return FindSpecsMemo(root, nil) }

// A SpecMemo keeps what FindSpecs decided of a directory, by a digest of
// the names and bytes of its .cue files, so that a later search need not
// parse files it has seen: parsing is nearly all of its time. A memo is
// an optimisation only; it must give back what was stored, or nothing.
type SpecMemo interface {
	Lookup(sum [sha256.Size]byte) (spec, ok bool)
	Store(sum [sha256.Size]byte, spec bool)
}

// FindSpecsMemo is FindSpecs with a memo (nil: none).
func FindSpecsMemo(root string, memo SpecMemo) ([]string, error) {
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
		spec, err := isSpecDir(p, memo)
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

// isSpecDir reports whether dir holds a spec (see FindSpecs), from memo
// when it knows dir's files.
func isSpecDir(dir string, memo SpecMemo) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	type file struct {
		name string
		src  []byte
	}
	var files []file
	h := sha256.New()
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".cue" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return false, err
		}
		files = append(files, file{e.Name(), src})
		// Each with its length, so that no two lists of files hash alike.
		var n [16]byte
		binary.BigEndian.PutUint64(n[:8], uint64(len(e.Name())))
		binary.BigEndian.PutUint64(n[8:], uint64(len(src)))
		h.Write(n[:])
		h.Write([]byte(e.Name()))
		h.Write(src)
	}
	if len(files) == 0 {
		return false, nil
	}
	var sum [sha256.Size]byte
	if memo != nil {
		h.Sum(sum[:0])
		if spec, ok := memo.Lookup(sum); ok {
			return spec, nil
		}
	}
	spec := false
	for _, f := range files {
		if declaresAny(f.name, f.src) {
			spec = true
			break
		}
	}
	if memo != nil {
		memo.Store(sum, spec)
	}
	return spec, nil
}

// declaresAny reports whether the file holds a top-level declaration of
// a system (declaresSystem), or does not parse.
func declaresAny(name string, src []byte) bool {
	f, err := parser.ParseFile(name, src)
	if err != nil {
		return true
	}
	return slices.ContainsFunc(f.Decls, func(d ast.Decl) bool { return declaresSystem(d) })
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
