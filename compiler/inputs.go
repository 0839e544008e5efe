package compiler

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue/parser"
)

// ErrUnknownInputs is returned by Inputs when it cannot tell every file a
// spec reads: a .cue file it cannot parse, or one that embeds other files
// (@extern, @embed), which name files of any kind anywhere in the module.
var ErrUnknownInputs = errors.New("the spec's input files cannot be told in advance")

// Inputs returns every file whose bytes can change what Compile makes of
// the spec in dir, as absolute paths, sorted: the render cache hashes them
// (with the kiln binary and the options) into its key, so a file missing
// here would make a stale entry look current. The list errs on the side of
// too much, since a file too many only costs a cache miss:
//
//   - the .cue files of dir and of every directory above it up to the module
//     root, which CUE adds to the package when their package clause matches
//     (hidden files, starting with "." or "_", CUE never loads);
//   - every file under the module's cue.mod (module.cue, vendored and
//     generated packages), which is how kiln resolves imports of other
//     modules (Env is empty: no registry);
//   - the same .cue files of every package of the module the spec imports,
//     transitively, found by reading the import declarations.
//
// A spec outside any module (no cue.mod above it) reads dir's files alone.
// The embedded schema is part of the binary, which the cache key covers.
func Inputs(dir string) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, module := findModule(abs)
	in := inputs{root: root, module: module, files: map[string]bool{}, dirs: map[string]bool{}}
	if root == "" {
		// loadInstances gives it a module of its own (defaultModuleFile).
		in.root, in.module = abs, moduleRE.FindStringSubmatch(defaultModuleFile)[1]
	} else {
		err := filepath.WalkDir(filepath.Join(root, "cue.mod"), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				in.files[p] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if err := in.pkg(abs); err != nil {
		return nil, err
	}
	return slices.Sorted(func(yield func(string) bool) {
		for f := range in.files {
			if !yield(f) {
				return
			}
		}
	}), nil
}

// inputs gathers the files of Inputs.
type inputs struct {
	root, module string
	files        map[string]bool
	dirs         map[string]bool // directories whose .cue files are in files
}

// pkg adds the package in dir: the .cue files of dir and of its parents up
// to the root, then the packages of the module they import.
func (in *inputs) pkg(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		if err := in.dir(d); err != nil {
			return err
		}
		if d == in.root || !strings.HasPrefix(d, in.root+string(filepath.Separator)) {
			return nil
		}
	}
}

// dir adds the .cue files of one directory and the packages they import.
func (in *inputs) dir(dir string) error {
	if in.dirs[dir] {
		return nil
	}
	in.dirs[dir] = true
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // an import of a package that is not there: CUE says so
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if filepath.Ext(name) != ".cue" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		p := filepath.Join(dir, name)
		src, err := os.ReadFile(p)
		if err != nil {
			if e.IsDir() {
				continue
			}
			return err
		}
		in.files[p] = true
		if bytes.Contains(src, []byte("@extern")) || bytes.Contains(src, []byte("@embed")) {
			return fmt.Errorf("%s embeds files: %w", p, ErrUnknownInputs)
		}
		f, err := parser.ParseFile(p, src, parser.ImportsOnly)
		if err != nil {
			return fmt.Errorf("%s: %w", p, ErrUnknownInputs)
		}
		for imp := range f.ImportSpecs() {
			ip, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: import %s: %w", p, imp.Path.Value, ErrUnknownInputs)
			}
			if sub, ok := in.inModule(ip); ok {
				if err := in.pkg(filepath.Join(in.root, filepath.FromSlash(sub))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// inModule returns the directory, relative to the module root, of an import
// path inside the module, without its major version or package qualifier.
// Imports of the standard library and of other modules (vendored under
// cue.mod, all of which Inputs lists) are not in it.
func (in *inputs) inModule(ip string) (string, bool) {
	ip, _, _ = strings.Cut(ip, ":")
	if at := strings.Index(ip, "@"); at >= 0 {
		rest := ip[at:]
		ip = ip[:at]
		if slash := strings.Index(rest, "/"); slash >= 0 {
			ip += rest[slash:]
		}
	}
	if in.module == "" {
		return "", false
	}
	if ip == in.module {
		return ".", true
	}
	if rest, ok := strings.CutPrefix(ip, in.module+"/"); ok {
		return rest, true
	}
	return "", false
}
