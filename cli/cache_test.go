package cli_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/bench"
	"github.com/kiln-ml/kiln/cli"
)

// cachedRender runs kiln render --stats in dir (the working directory)
// with the given KILN_CACHE into a fresh output directory and returns the
// files written, stderr without the --stats lines (with OUT for the
// output directory), and the cache line.
func cachedRender(t *testing.T, dir, cache string, args ...string) (files map[string]string, stderr, cacheLine string) {
	t.Helper()
	t.Setenv("KILN_CACHE", cache)
	t.Chdir(dir)
	out := t.TempDir()
	var buf bytes.Buffer
	args = append([]string{"render", "--stats", "--out", out}, args...)
	if code := cli.Run(context.Background(), args, &buf, &buf); code != 0 {
		t.Fatalf("kiln %v: exit %d: %s", args, code, buf.String())
	}
	files = map[string]string{}
	for p, st := range snapshot(t, out) {
		if !st.Mode.IsDir() {
			files[filepath.ToSlash(p)] = st.Content
		}
	}
	stats := regexp.MustCompile(`(?m)^(load|evaluate|environments|decode|checks|render|encode|write|total|evaluation|peak RSS) .*\n`)
	rest := stats.ReplaceAllString(buf.String(), "")
	line := regexp.MustCompile(`(?m)^cache +(.*)\n`)
	if m := line.FindStringSubmatch(rest); m != nil {
		cacheLine = m[1]
	}
	rest = line.ReplaceAllString(rest, "")
	return files, strings.ReplaceAll(rest, out, "OUT"), cacheLine
}

// The cache changes no output: a large generated system and a repository
// of 50 systems render to the same bytes, and print the same, without the
// cache (at GOMAXPROCS 1), into an empty one and from a full one (at 4).
func TestCacheSameBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(dir string) error
		args  []string
		n     int // systems
	}{
		{"large", func(dir string) error { return bench.WriteSystem(dir, 50, 3) }, []string{"."}, 1},
		{"fleet", func(dir string) error { return bench.WriteFleet(dir, 50, 2, 1) }, []string{"./..."}, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() {
				t.Skip("renders hundreds of objects several times")
			}
			repo, cache := t.TempDir(), t.TempDir()
			if err := tc.write(repo); err != nil {
				t.Fatal(err)
			}
			// One system at a time without the cache, several at once
			// with it: neither changes a byte.
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			off, offErr, offLine := cachedRender(t, repo, "off", tc.args...)
			runtime.GOMAXPROCS(4)
			if offLine != "off" {
				t.Errorf("KILN_CACHE=off: cache line %q", offLine)
			}
			if len(off) < 500 {
				t.Fatalf("only %d files rendered: not a large render", len(off))
			}
			for _, want := range []string{"0 hits, " + count(tc.n, "miss", "misses"), count(tc.n, "hit", "hits") + ", 0 misses"} {
				got, gotErr, line := cachedRender(t, repo, cache, tc.args...)
				if line != want {
					t.Errorf("cache line %q, want %q", line, want)
				}
				if diff := cmp.Diff(slices.Sorted(maps.Keys(off)), slices.Sorted(maps.Keys(got))); diff != "" {
					t.Fatalf("%s: other files than without the cache (-off +cache):\n%s", want, diff)
				}
				for p := range off {
					if off[p] != got[p] {
						t.Errorf("%s: %s differs from its render without the cache", want, p)
					}
				}
				if gotErr != offErr {
					t.Errorf("%s: stderr differs from the render without the cache:\n%s\nwant:\n%s", want, gotErr, offErr)
				}
			}
		})
	}
}

// count is "1 hit" or "50 hits".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// A damaged entry is a miss, never an error or other output, and the
// render puts a good entry in its place.
func TestCacheDamagedEntry(t *testing.T) {
	repo, cache := t.TempDir(), t.TempDir()
	if err := bench.WriteSystem(repo, 3, 2); err != nil {
		t.Fatal(err)
	}
	magic := []byte("kiln-cache-1\n")
	for name, damage := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		// In the middle: entries of every size (an output record left
		// truncated by an earlier case is 32 bytes) are damaged.
		"flipped": func(b []byte) []byte { b[len(b)/2] ^= 0x20; return b },
		// A checksum that holds over bytes that are no entry.
		"garbage": func([]byte) []byte {
			junk := []byte("not what kiln wrote")
			sum := sha256.Sum256(junk)
			return append(append(slices.Clone(magic), sum[:]...), junk...)
		},
	} {
		t.Run(name, func(t *testing.T) {
			// Rendered here, so the index's path from the output to the
			// spec is the same in every render compared.
			want, wantErr, _ := cachedRender(t, repo, "off", ".")
			cachedRender(t, repo, cache, ".")
			n := 0
			err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				n++
				return os.WriteFile(p, damage(b), 0o644)
			})
			if err != nil || n == 0 {
				t.Fatalf("damaging %d entries: %v", n, err)
			}
			got, gotErr, line := cachedRender(t, repo, cache, ".")
			if line != "0 hits, 1 miss" {
				t.Errorf("damaged entry: cache line %q, want a miss", line)
			}
			if !maps.Equal(got, want) || gotErr != wantErr {
				t.Error("damaged entry: output differs from a render without the cache")
			}
			if _, _, line := cachedRender(t, repo, cache, "."); line != "1 hit, 0 misses" {
				t.Errorf("after a damaged entry: cache line %q, want the entry rewritten and hit", line)
			}
		})
	}
}

// A render into the output of an earlier one trusts that output's write
// record only as far as it goes: a file changed since, even to bytes of
// the same size with its modification time put back, is rewritten, on a
// hit and without the render cache's files entries alike.
func TestCacheOutputRecord(t *testing.T) {
	repo, cache, out := t.TempDir(), t.TempDir(), t.TempDir()
	if err := bench.WriteSystem(repo, 3, 1); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KILN_CACHE", cache)
	t.Chdir(repo)
	render := func(wantCache, wantWrote string) {
		t.Helper()
		// The record trusts no file changed in the tick of the file
		// system's clock in which it was made (write.Record): in a
		// test, all of them but for this pause.
		time.Sleep(50 * time.Millisecond)
		var buf bytes.Buffer
		args := []string{"render", "--stats", "--out", out, "."}
		if code := cli.Run(context.Background(), args, &buf, &buf); code != 0 {
			t.Fatalf("kiln %v: exit %d: %s", args, code, buf.String())
		}
		if !regexp.MustCompile(`(?m)^cache +` + wantCache + `$`).MatchString(buf.String()) {
			t.Errorf("want cache %q:\n%s", wantCache, buf.String())
		}
		if !strings.Contains(buf.String(), wantWrote) {
			t.Errorf("want %q:\n%s", wantWrote, buf.String())
		}
	}
	render("0 hits, 1 miss", "0 updated, 0 deleted, 0 unchanged")
	render("1 hit, 0 misses", "0 created, 0 updated, 0 deleted")
	var target string
	var want []byte
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && target == "" && strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, "kustomization.yaml") {
			target = p
		}
		return err
	})
	if err != nil || target == "" {
		t.Fatalf("no object file in the output: %v", err)
	}
	if want, err = os.ReadFile(target); err != nil {
		t.Fatal(err)
	}
	change := func() {
		t.Helper()
		fi, err := os.Stat(target)
		if err != nil {
			t.Fatal(err)
		}
		changed := bytes.ToUpper(want)
		if bytes.Equal(changed, want) || len(changed) != len(want) {
			t.Fatal("no change of the same size")
		}
		if err := os.WriteFile(target, changed, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(target, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string) {
		t.Helper()
		if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %s not restored (%v)", what, target, err)
		}
	}
	change()
	render("1 hit, 0 misses", "0 created, 1 updated, 0 deleted")
	check("hit")
	render("1 hit, 0 misses", "0 created, 0 updated, 0 deleted")

	// Without the files entries, the head's sums still prove the files
	// that did not change; one that did needs its bytes, so the system
	// is built again.
	// The system's two entries: the head, and its files, the larger.
	var entries []string
	var sizes []int64
	err = filepath.WalkDir(filepath.Join(cache, "systems"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		entries, sizes = append(entries, p), append(sizes, fi.Size())
		return err
	})
	if err != nil || len(entries) != 2 {
		t.Fatalf("want the head and the files entries, have %v (%v)", entries, err)
	}
	if err := os.Remove(entries[slices.Index(sizes, slices.Max(sizes))]); err != nil {
		t.Fatal(err)
	}
	render("1 hit, 0 misses", "0 created, 0 updated, 0 deleted")
	change()
	render("0 hits, 1 miss", "0 created, 1 updated, 0 deleted")
	check("miss")
}

// DIR/... finds the same specs with the memo of which directories are
// specs as without it, after a directory became a spec and after one
// went away; the memo is one entry per searched directory, holding the
// verdicts its last search used.
func TestCacheSpecMemo(t *testing.T) {
	repo, cache := t.TempDir(), t.TempDir()
	write := func(p, src string) {
		t.Helper()
		name := filepath.Join(repo, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := func(name string) string {
		return "package " + name + "\n\nname:      \"" + name + "\"\nnamespace: \"" + name + "\"\nenvironments: dev: {}\n"
	}
	write("cue.mod/module.cue", "module: \"example.com/m@v0\"\nlanguage: version: \"v0.17.0\"\n")
	write("a/spec.cue", spec("a"))
	write("b/spec.cue", spec("b"))
	write("lib/lib.cue", "package lib\n\n#Thing: {name: string}\n")
	t.Chdir(repo)
	vet := func(cacheDir string) string {
		t.Helper()
		t.Setenv("KILN_CACHE", cacheDir)
		var buf bytes.Buffer
		if code := cli.Run(context.Background(), []string{"vet", "./..."}, &buf, &buf); code != 0 {
			t.Fatalf("kiln vet ./...: exit %d: %s", code, buf.String())
		}
		return buf.String()
	}
	entry := func() []byte {
		t.Helper()
		var found [][]byte
		err := filepath.WalkDir(filepath.Join(cache, "specs"), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			found = append(found, b)
			return err
		})
		if err != nil || len(found) != 1 {
			t.Fatalf("want one memo entry, have %d (%v)", len(found), err)
		}
		return found[0]
	}
	check := func(what string, dirs int) {
		t.Helper()
		want := vet("off")
		for range 2 { // filling the memo, then from it
			if got := vet(cache); got != want {
				t.Errorf("%s: with the memo:\n%s\nwithout:\n%s", what, got, want)
			}
		}
		// The cache's magic and checksum, then 33 bytes a directory.
		if n := len(entry()) - len("kiln-cache-1\n") - sha256.Size; n != dirs*(sha256.Size+1) {
			t.Errorf("%s: memo of %d bytes, want %d directories'", what, n, dirs)
		}
	}
	check("first", 3) // a, b, lib (cue.mod is skipped)
	write("lib/lib.cue", spec("lib"))
	check("lib made a spec", 3)
	if !strings.Contains(vet(cache), "lib") {
		t.Error("the directory that became a spec is not vetted")
	}
	if err := os.RemoveAll(filepath.Join(repo, "b")); err != nil {
		t.Fatal(err)
	}
	check("b removed", 2)
}
