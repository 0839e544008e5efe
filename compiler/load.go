package compiler

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/load"

	"github.com/kiln-ml/kiln/schema"
)

// schemaPkgDir is where CUE looks for an imported package vendored into a
// module (cue.mod/pkg/<import path>). The compiler overlays the embedded
// schema there, so the binary's schema is the one that counts and no
// registry is ever consulted.
var schemaPkgDir = filepath.Join("cue.mod", "pkg", filepath.FromSlash(schema.ImportPath))

// kilnModule is the CUE module of kiln's own repository, whose examples
// import the schema from the module itself.
const kilnModule = "github.com/kiln-ml/kiln"

// defaultModuleFile is used for spec directories outside any CUE module.
const defaultModuleFile = "module: \"kiln.local/spec@v0\"\nlanguage: version: \"v0.17.0\"\n"

var moduleRE = regexp.MustCompile(`(?m)^\s*module:\s*"([^"@]+)`)

// loadInstances loads the spec package in dir and the schema package, with
// extra files (used by tests and fuzzing) overlaid into dir.
func loadInstances(dir string, extra map[string][]byte) (spec, sch *build.Instance, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("spec directory: %w", err)
	}
	overlay := map[string]load.Source{}
	if err := skipDanglingLinks(abs, overlay); err != nil {
		return nil, nil, err
	}
	for name, src := range extra {
		overlay[filepath.Join(abs, name)] = load.FromBytes(src)
	}
	root, module := findModule(abs)
	if root == "" {
		root = abs
		overlay[filepath.Join(root, "cue.mod", "module.cue")] = load.FromString(defaultModuleFile)
	}
	if module != kilnModule {
		err := eachSchemaFile(func(name string, src []byte) error {
			overlay[filepath.Join(root, schemaPkgDir, name)] = load.FromBytes(src)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	cfg := &load.Config{
		Dir:        abs,
		ModuleRoot: root,
		Overlay:    overlay,
		// Environment variables such as CUE_REGISTRY must not change what a
		// spec means: kiln resolves only the schema, and only locally.
		Env: []string{},
	}
	insts := load.Instances([]string{".", schema.ImportPath}, cfg)
	if len(insts) != 2 {
		return nil, nil, fmt.Errorf("loading %s: expected the spec and schema packages, got %d instances", dir, len(insts))
	}
	return insts[0], insts[1], nil
}

// eachSchemaFile calls fn with each file of the embedded schema, by name
// in name order.
func eachSchemaFile(fn func(name string, src []byte) error) error {
	files, err := fs.ReadDir(schema.FS, ".")
	if err != nil {
		return fmt.Errorf("reading embedded schema: %w", err)
	}
	for _, f := range files {
		src, err := fs.ReadFile(schema.FS, f.Name())
		if err != nil {
			return fmt.Errorf("reading embedded schema: %w", err)
		}
		if err := fn(f.Name(), src); err != nil {
			return err
		}
	}
	return nil
}

// skipDanglingLinks handles .cue entries of dir that are symbolic links
// to nothing. Editors leave those as lock files (Emacs writes .#name.cue
// pointing at user@host.pid): they are hidden files, which CUE does not
// load, but its loader stats them first and fails, so they are overlaid
// with an empty file. Any other dangling link is an error naming it.
func skipDanglingLinks(dir string, overlay map[string]load.Source) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // the loader reports a missing directory its own way
	}
	for _, e := range entries {
		name := e.Name()
		if e.Type()&fs.ModeSymlink == 0 || filepath.Ext(name) != ".cue" {
			continue
		}
		full := filepath.Join(dir, name)
		if _, err := os.Stat(full); err == nil {
			continue
		}
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			overlay[full] = load.FromString("")
			continue
		}
		target, _ := os.Readlink(full)
		return &danglingLinkError{file: full, target: target}
	}
	return nil
}

// danglingLinkError is a .cue file of the spec that links to nothing.
type danglingLinkError struct{ file, target string }

func (e *danglingLinkError) Error() string {
	return e.file + ": " + e.msg()
}

func (e *danglingLinkError) msg() string {
	return "a symbolic link to " + e.target + ", which does not exist; remove the link or restore its target"
}

// findModule walks up from dir to the directory holding cue.mod/module.cue
// and returns it with the module path it declares.
func findModule(dir string) (root, module string) {
	for d := dir; ; d = filepath.Dir(d) {
		src, err := os.ReadFile(filepath.Join(d, "cue.mod", "module.cue"))
		if err == nil {
			if m := moduleRE.FindSubmatch(src); m != nil {
				module = string(bytes.TrimSpace(m[1]))
			}
			return d, module
		}
		if parent := filepath.Dir(d); parent == d {
			return "", ""
		}
	}
}

// isSchemaFile reports whether a file name belongs to the schema, wherever
// it was loaded from (overlay or kiln's own repository).
func isSchemaFile(name string) bool {
	dir := filepath.ToSlash(filepath.Dir(name))
	return path.Base(dir) == "schema" && (hasSuffixPath(dir, filepath.ToSlash(schemaPkgDir)) || isKilnSchemaDir(dir))
}

func hasSuffixPath(p, suffix string) bool {
	return p == suffix || len(p) > len(suffix) && p[len(p)-len(suffix)-1] == '/' && p[len(p)-len(suffix):] == suffix
}

// isKilnSchemaDir reports whether dir is the schema directory of kiln's own
// module (examples inside the repository import it directly).
func isKilnSchemaDir(dir string) bool {
	root, module := findModule(filepath.FromSlash(dir))
	return module == kilnModule && filepath.ToSlash(filepath.Join(root, "schema")) == dir
}
