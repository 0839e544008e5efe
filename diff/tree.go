package diff

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// indexFile is the index render/write keeps in the output root: the
// generated paths, one a line, after "#" comment lines.
const indexFile = ".kiln-index"

// ReadTree reads the generated files under dir for which scope returns true
// (nil: all). When dir has kiln's index only the files it lists are read, so
// hand-written files beside the generated ones are never reported as
// removed; without an index every regular file in scope is read. A missing
// dir is an empty tree: nothing has been committed yet.
func ReadTree(dir string, scope func(string) bool) (map[string][]byte, error) {
	out := map[string][]byte{}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	var paths []string
	idx, err := os.ReadFile(filepath.Join(dir, indexFile))
	switch {
	case err == nil:
		sc := bufio.NewScanner(bytes.NewReader(idx))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			paths = append(paths, line)
		}
	case errors.Is(err, fs.ErrNotExist):
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != dir && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				rel, err := filepath.Rel(dir, p)
				if err != nil {
					return err
				}
				paths = append(paths, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	for _, p := range paths {
		if p != path.Clean(p) || strings.HasPrefix(p, "../") || (scope != nil && !scope(p)) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			// Listed but deleted by hand: render would recreate it.
			continue
		}
		if err != nil {
			return nil, err
		}
		out[p] = b
	}
	return out, nil
}
