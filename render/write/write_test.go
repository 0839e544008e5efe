package write

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oldTime is a modification time no write in these tests can produce.
var oldTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

// node is one entry of a directory tree as the tests compare it.
type node struct {
	Mode  fs.FileMode
	MTime time.Time
	Data  string
}

// snapshot records every file and directory below dir (dir itself
// included, as "."): type, permissions, modification time and content.
func snapshot(t *testing.T, dir string) map[string]node {
	t.Helper()
	snap := map[string]node{}
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(name)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, name)
		if err != nil {
			return err
		}
		n := node{Mode: fi.Mode(), MTime: fi.ModTime()}
		if treeStreams && fi.IsDir() && (rel == "." || exists(filepath.Join(name, IndexFile))) {
			// A streamed write makes its staging directory in the
			// output directory (the one snapshot, or one holding an
			// index) before it knows whether it can write: removed
			// again, it leaves the directory's time changed.
			n.MTime = time.Time{}
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(name)
			if err != nil {
				return err
			}
			n.Data = string(data)
		}
		snap[filepath.ToSlash(rel)] = n
		return nil
	})
	require.NoError(t, err)
	return snap
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// age sets the modification time of everything below dir to oldTime, so
// that a rewrite, even within the same clock tick, shows.
func age(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(name, oldTime, oldTime)
	})
	require.NoError(t, err)
}

// tree writes files and fails the test on error.
func tree(t *testing.T, dir string, files map[string]string, opts Options) Result {
	t.Helper()
	res, err := Tree(dir, bytesOf(files), opts)
	require.NoError(t, err)
	return res
}

func bytesOf(files map[string]string) map[string][]byte {
	m := make(map[string][]byte, len(files))
	for k, v := range files {
		m[k] = []byte(v)
	}
	return m
}

// index returns the paths listed in dir's index, checking its format.
func index(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, IndexFile))
	require.NoError(t, err)
	s := string(data)
	require.True(t, strings.HasSuffix(s, "\n"), "index must end with a newline: %q", s)
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	require.Equal(t, indexHeader, lines[0])
	assert.IsNonDecreasing(t, lines[1:], "index must be sorted")
	if len(lines) == 1 {
		return nil
	}
	return lines[1:]
}

// files returns the regular files below dir with their content, by slash path.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for rel, n := range snapshot(t, dir) {
		if n.Mode.IsRegular() {
			m[rel] = n.Data
		}
	}
	return m
}

// noTemp fails if any temporary file is left below dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	for rel := range snapshot(t, dir) {
		assert.NotContains(t, filepath.Base(rel), ".kiln-tmp-", "temporary file left behind")
	}
}

var base = map[string]string{
	"a.yaml":               "a: 1\n",
	"apps/web/deploy.yaml": "kind: Deployment\n",
	"apps/web/svc.yaml":    "kind: Service\n",
	"apps/db/sts.yaml":     "kind: StatefulSet\n",
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func without(m map[string]string, keys ...string) map[string]string {
	out := with(m)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func TestFirstWriteCreatesFilesAndIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deploy", "dev") // does not exist yet
	res := tree(t, dir, base, Options{})

	assert.Equal(t, Result{Created: []string{"a.yaml", "apps/db/sts.yaml", "apps/web/deploy.yaml", "apps/web/svc.yaml"}}, res)
	want := with(base, IndexFile, indexHeader+"\na.yaml\napps/db/sts.yaml\napps/web/deploy.yaml\napps/web/svc.yaml\n")
	assert.Equal(t, want, files(t, dir))
	for rel, n := range snapshot(t, dir) {
		if n.Mode.IsRegular() {
			assert.Equal(t, fs.FileMode(0o644), n.Mode.Perm(), rel)
		} else {
			assert.True(t, n.Mode.IsDir(), rel)
			assert.Zero(t, n.Mode.Perm()&^0o755, "%s: directories are made 0755 (less the umask)", rel)
		}
	}
	noTemp(t, dir)
}

func TestIdenticalWriteChangesNothing(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, base, Options{})
	age(t, dir)
	before := snapshot(t, dir)

	res := tree(t, dir, base, Options{})

	assert.Equal(t, Result{Unchanged: []string{"a.yaml", "apps/db/sts.yaml", "apps/web/deploy.yaml", "apps/web/svc.yaml"}}, res)
	assert.Equal(t, before, snapshot(t, dir), "neither files, nor the index, nor directories may be touched")
}

func TestChangedFileIsUpdated(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, base, Options{})
	age(t, dir)
	before := snapshot(t, dir)

	res := tree(t, dir, with(base, "apps/web/svc.yaml", "kind: Service\nspec: {}\n"), Options{})

	assert.Equal(t, Result{
		Updated:   []string{"apps/web/svc.yaml"},
		Unchanged: []string{"a.yaml", "apps/db/sts.yaml", "apps/web/deploy.yaml"},
	}, res)
	after := snapshot(t, dir)
	assert.Equal(t, "kind: Service\nspec: {}\n", after["apps/web/svc.yaml"].Data)
	assert.Equal(t, fs.FileMode(0o644), after["apps/web/svc.yaml"].Mode.Perm())
	assert.NotEqual(t, oldTime, after["apps/web/svc.yaml"].MTime)
	for _, rel := range []string{"a.yaml", "apps/db/sts.yaml", "apps/web/deploy.yaml", IndexFile} {
		assert.Equal(t, before[rel], after[rel], "%s must not be rewritten", rel)
	}
	noTemp(t, dir)
}

func TestAddedFileIsCreated(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, base, Options{})

	res := tree(t, dir, with(base, "apps/cache/deploy.yaml", "kind: Deployment\n"), Options{})

	assert.Equal(t, []string{"apps/cache/deploy.yaml"}, res.Created)
	assert.Len(t, res.Unchanged, 4)
	assert.Contains(t, index(t, dir), "apps/cache/deploy.yaml")
}

func TestRemovedFileIsDeletedWithEmptyDirs(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, with(base, "apps/web/conf/nested/cm.yaml", "kind: ConfigMap\n"), Options{})

	res := tree(t, dir, without(base, "apps/db/sts.yaml", "apps/web/svc.yaml"), Options{})

	assert.Equal(t, Result{
		Deleted:   []string{"apps/db/sts.yaml", "apps/web/conf/nested/cm.yaml", "apps/web/svc.yaml"},
		Unchanged: []string{"a.yaml", "apps/web/deploy.yaml"},
	}, res)
	assert.Equal(t, []string{"a.yaml", "apps/web/deploy.yaml"}, index(t, dir))
	snap := snapshot(t, dir)
	for _, gone := range []string{"apps/db", "apps/web/conf", "apps/web/conf/nested", "apps/db/sts.yaml", "apps/web/svc.yaml"} {
		assert.NotContains(t, snap, gone)
	}
	assert.Contains(t, snap, "apps/web")

	// Deleting everything leaves the output directory itself, with an index.
	res = tree(t, dir, nil, Options{})
	assert.Equal(t, Result{Deleted: []string{"a.yaml", "apps/web/deploy.yaml"}}, res)
	assert.Equal(t, map[string]string{IndexFile: indexHeader + "\n"}, files(t, dir))
	assert.NotContains(t, snapshot(t, dir), "apps")
	assert.DirExists(t, dir)
}

func TestUserFileAtGeneratedPathFails(t *testing.T) {
	t.Run("with an index", func(t *testing.T) {
		dir := t.TempDir()
		tree(t, dir, base, Options{})
		user := filepath.Join(dir, "apps", "web", "ingress.yaml")
		require.NoError(t, os.WriteFile(user, []byte("mine\n"), 0o600))
		age(t, dir)
		before := snapshot(t, dir)

		// This write would also create, update and delete files.
		next := with(without(base, "apps/db/sts.yaml"),
			"apps/web/ingress.yaml", "kind: Ingress\n",
			"a.yaml", "a: 2\n",
			"new/x.yaml", "x\n")
		res, err := Tree(dir, bytesOf(next), Options{})

		require.Error(t, err)
		assert.Equal(t, Result{}, res)
		assert.Contains(t, err.Error(), user+" exists and was not generated by kiln; move it away or delete it")
		assert.Equal(t, before, snapshot(t, dir), "the disk must be left exactly as it was")
	})
	t.Run("without an index", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("mine\n"), 0o600))
		age(t, dir)
		before := snapshot(t, dir)

		_, err := Tree(dir, bytesOf(base), Options{})

		require.ErrorContains(t, err, filepath.Join(dir, "a.yaml")+" exists and was not generated by kiln")
		assert.Equal(t, before, snapshot(t, dir))
	})
	t.Run("a file where a directory is needed", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "apps"), []byte("mine\n"), 0o600))
		age(t, dir)
		before := snapshot(t, dir)

		_, err := Tree(dir, bytesOf(base), Options{})

		require.ErrorContains(t, err, filepath.Join(dir, "apps")+" exists and is not a directory")
		// Reported once, not once for each of the three files below it.
		assert.Equal(t, 1, strings.Count(err.Error(), "is not a directory"), err.Error())
		assert.Equal(t, before, snapshot(t, dir))
	})
	t.Run("a directory where a file is generated", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "a.yaml", "x"), 0o755))
		age(t, dir)
		before := snapshot(t, dir)

		_, err := Tree(dir, bytesOf(base), Options{})

		require.ErrorContains(t, err, filepath.Join(dir, "a.yaml")+" is a directory")
		assert.Equal(t, before, snapshot(t, dir))
	})
	t.Run("every problem is reported", func(t *testing.T) {
		dir := t.TempDir()
		for _, f := range []string{"a.yaml", "apps/db/sts.yaml"} {
			name := filepath.Join(dir, filepath.FromSlash(f))
			require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
			require.NoError(t, os.WriteFile(name, []byte("mine\n"), 0o644))
		}
		_, err := Tree(dir, bytesOf(base), Options{})
		require.Error(t, err)
		assert.Equal(t, fmt.Sprintf("%s exists and was not generated by kiln; move it away or delete it\n"+
			"%s exists and was not generated by kiln; move it away or delete it",
			filepath.Join(dir, "a.yaml"), filepath.Join(dir, "apps", "db", "sts.yaml")), err.Error())
	})
}

func TestUserFilesElsewhereAreNeverTouched(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, base, Options{})
	userFiles := []string{"README.md", "apps/db/notes.txt", "apps/web/.gitkeep", "other/x.yaml"}
	for _, f := range userFiles {
		name := filepath.Join(dir, filepath.FromSlash(f))
		require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
		require.NoError(t, os.WriteFile(name, []byte("user "+f), 0o600))
	}
	age(t, dir)
	before := snapshot(t, dir)

	// apps/db and apps/web lose all their generated files.
	res := tree(t, dir, map[string]string{"a.yaml": "a: 1\n"}, Options{})

	assert.Equal(t, Result{
		Deleted:   []string{"apps/db/sts.yaml", "apps/web/deploy.yaml", "apps/web/svc.yaml"},
		Unchanged: []string{"a.yaml"},
	}, res)
	after := snapshot(t, dir)
	for _, f := range append(userFiles, "apps", "apps/db", "apps/web", "other") {
		require.Contains(t, after, f)
		if after[f].Mode.IsRegular() {
			assert.Equal(t, before[f], after[f], "user file %s must not be touched", f)
		}
	}
	assert.Equal(t, []string{"a.yaml"}, index(t, dir))
}

func TestScope(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{
		"team1/a.yaml": "a\n",
		"team1/b.yaml": "b\n",
		"team2/c.yaml": "c\n",
	}, Options{})
	inTeam1 := func(p string) bool { return strings.HasPrefix(p, "team1/") }

	// team2/c.yaml is stale but out of scope: it survives and stays indexed.
	res := tree(t, dir, map[string]string{"team1/a.yaml": "a2\n"}, Options{Scope: inTeam1})

	assert.Equal(t, Result{Updated: []string{"team1/a.yaml"}, Deleted: []string{"team1/b.yaml"}}, res)
	assert.Equal(t, map[string]string{
		"team1/a.yaml": "a2\n",
		"team2/c.yaml": "c\n",
		IndexFile:      indexHeader + "\nteam1/a.yaml\nteam2/c.yaml\n",
	}, files(t, dir))

	// An out-of-scope generated file may still be written: it is kiln's.
	res = tree(t, dir, map[string]string{"team1/a.yaml": "a2\n", "team2/c.yaml": "c2\n"}, Options{Scope: inTeam1})
	assert.Equal(t, Result{Updated: []string{"team2/c.yaml"}, Unchanged: []string{"team1/a.yaml"}}, res)

	// Scope is asked only about old paths the new tree lacks, in order.
	var asked []string
	res = tree(t, dir, map[string]string{"team3/d.yaml": "d\n"}, Options{Scope: func(p string) bool {
		asked = append(asked, p)
		return p == "team2/c.yaml"
	}})
	assert.Equal(t, []string{"team1/a.yaml", "team2/c.yaml"}, asked)
	assert.Equal(t, Result{Created: []string{"team3/d.yaml"}, Deleted: []string{"team2/c.yaml"}}, res)
	assert.Equal(t, []string{"team1/a.yaml", "team3/d.yaml"}, index(t, dir))
	assert.NoDirExists(t, filepath.Join(dir, "team2"))
}

func TestInvalidPathsWriteNothing(t *testing.T) {
	for _, tc := range []struct {
		path, msg string
	}{
		{"../x", `contains ".."`},
		{"a/../../x", `contains ".."`},
		{"/abs", "absolute"},
		{"a/../b", `contains ".."`},
		{"./a", "not clean"},
		{"a//b", "not clean"},
		{"a/", "not clean"},
		{".", "output directory itself"},
		{"", "empty"},
		{IndexFile, "index"},
		{"#x", "comment"},
		{"a\nb", "line break"},
		{`a\b`, "backslash"},
		{"apps", `"apps" is also a file`}, // a file and the directory of apps/web/...
	} {
		t.Run(tc.path, func(t *testing.T) {
			for _, existing := range []bool{false, true} {
				dir := t.TempDir()
				if existing {
					tree(t, dir, map[string]string{"a.yaml": "old\n", "gone.yaml": "x\n"}, Options{})
					age(t, dir)
				}
				before := snapshot(t, dir)
				res, err := Tree(dir, bytesOf(with(base, tc.path, "x\n")), Options{})
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.msg)
				assert.Equal(t, Result{}, res)
				assert.Equal(t, before, snapshot(t, dir))
			}
		})
	}
	t.Run("output directory not created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		_, err := Tree(dir, bytesOf(with(base, "../x", "x")), Options{})
		require.Error(t, err)
		assert.NoDirExists(t, dir)
	})
}

func TestDryRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, base, Options{})
	age(t, dir)
	before := snapshot(t, dir)

	next := with(without(base, "apps/db/sts.yaml"), "a.yaml", "a: 2\n", "new/x.yaml", "x\n")
	res := tree(t, dir, next, Options{DryRun: true})

	want := Result{
		Created:   []string{"new/x.yaml"},
		Updated:   []string{"a.yaml"},
		Deleted:   []string{"apps/db/sts.yaml"},
		Unchanged: []string{"apps/web/deploy.yaml", "apps/web/svc.yaml"},
	}
	assert.Equal(t, want, res)
	assert.Equal(t, before, snapshot(t, dir))

	// The real write does what the dry run said.
	assert.Equal(t, want, tree(t, dir, next, Options{}))

	// A dry run does not create the output directory either.
	fresh := filepath.Join(t.TempDir(), "out")
	res = tree(t, fresh, base, Options{DryRun: true})
	assert.Len(t, res.Created, 4)
	assert.NoDirExists(t, fresh)
}

func TestFailureMidwayLeavesNoTempFiles(t *testing.T) {
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions")
		}
		if runtime.GOOS == "windows" {
			t.Skip("directory permissions do not stop writes on Windows")
		}
		dir := t.TempDir()
		tree(t, dir, base, Options{})
		ro := filepath.Join(dir, "apps", "web")
		require.NoError(t, os.Chmod(ro, 0o555))
		t.Cleanup(func() { os.Chmod(ro, 0o755) })

		// a.yaml and apps/db/sts.yaml sort before apps/web and are written
		// first; apps/web/deploy.yaml fails.
		next := map[string]string{}
		for k, v := range base {
			next[k] = v + "# changed\n"
		}
		next["apps/new/x.yaml"] = "x\n"
		_, err := Tree(dir, bytesOf(next), Options{})

		require.Error(t, err)
		assert.ErrorIs(t, err, fs.ErrPermission)
		noTemp(t, dir)
		got := files(t, dir)
		assert.Equal(t, next["a.yaml"], got["a.yaml"], "files renamed into place stay")
		assert.Equal(t, next["apps/db/sts.yaml"], got["apps/db/sts.yaml"])
		assert.Equal(t, next["apps/new/x.yaml"], got["apps/new/x.yaml"])
		assert.Equal(t, base["apps/web/deploy.yaml"], got["apps/web/deploy.yaml"])
		// The index lists every file kiln generated or may have generated.
		assert.Equal(t, []string{"a.yaml", "apps/db/sts.yaml", "apps/new/x.yaml", "apps/web/deploy.yaml", "apps/web/svc.yaml"}, index(t, dir))

		// Once the directory is writable again, the write converges.
		require.NoError(t, os.Chmod(ro, 0o755))
		res := tree(t, dir, next, Options{})
		assert.Equal(t, Result{
			Updated:   []string{"apps/web/deploy.yaml", "apps/web/svc.yaml"},
			Unchanged: []string{"a.yaml", "apps/db/sts.yaml", "apps/new/x.yaml"},
		}, res)
		noTemp(t, dir)
	})
	t.Run("rename fails", func(t *testing.T) {
		dir := t.TempDir()
		tree(t, dir, map[string]string{"keep.yaml": "k\n", "stale/s.yaml": "s\n"}, Options{})

		next := map[string]string{
			"keep.yaml":        "k2\n",
			"new1/a.yaml":      "a\n",
			"new2/deep/b.yaml": "b\n",
			"new3/c.yaml":      "c\n",
		}
		failOn := filepath.Join(dir, "new2", "deep", "b.yaml")
		rename = func(from, to string) error {
			if to == failOn {
				return errors.New("injected failure")
			}
			return os.Rename(from, to)
		}
		t.Cleanup(func() { rename = os.Rename })

		_, err := Tree(dir, bytesOf(next), Options{})
		require.ErrorContains(t, err, "injected failure")

		noTemp(t, dir)
		snap := snapshot(t, dir)
		assert.Equal(t, "k2\n", snap["keep.yaml"].Data, "files renamed into place stay")
		assert.Equal(t, "a\n", snap["new1/a.yaml"].Data)
		assert.NotContains(t, snap, "new2", "directories made for the failed file are removed")
		assert.NotContains(t, snap, "new3/c.yaml")
		assert.Equal(t, "s\n", snap["stale/s.yaml"].Data, "nothing is deleted before every file is written")
		// The index lists every file kiln generated or may have generated.
		assert.Equal(t, []string{"keep.yaml", "new1/a.yaml", "new2/deep/b.yaml", "new3/c.yaml", "stale/s.yaml"}, index(t, dir))

		// Running the write again converges.
		rename = os.Rename
		res := tree(t, dir, next, Options{})
		assert.Equal(t, Result{
			Created:   []string{"new2/deep/b.yaml", "new3/c.yaml"},
			Deleted:   []string{"stale/s.yaml"},
			Unchanged: []string{"keep.yaml", "new1/a.yaml"},
		}, res)
		want := with(next, IndexFile, indexHeader+"\nkeep.yaml\nnew1/a.yaml\nnew2/deep/b.yaml\nnew3/c.yaml\n")
		assert.Equal(t, want, files(t, dir))
		assert.NoDirExists(t, filepath.Join(dir, "stale"))
	})
}

func TestSymlinksAreNotFollowed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	dir, elsewhere := t.TempDir(), t.TempDir()
	tree(t, dir, base, Options{})
	require.NoError(t, os.WriteFile(filepath.Join(elsewhere, "svc.yaml"), []byte("precious\n"), 0o644))
	// The user replaces a generated directory with a symlink.
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "apps", "web")))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, "apps", "web")))
	age(t, elsewhere)
	beforeElsewhere := snapshot(t, elsewhere)

	// Writing through it fails.
	_, err := Tree(dir, bytesOf(base), Options{})
	require.ErrorContains(t, err, "is a symlink")

	// Deleting through it does nothing; the paths leave the index.
	res := tree(t, dir, without(base, "apps/web/deploy.yaml", "apps/web/svc.yaml"), Options{})
	assert.Empty(t, res.Deleted)
	assert.Equal(t, []string{"a.yaml", "apps/db/sts.yaml"}, index(t, dir))
	assert.Equal(t, beforeElsewhere, snapshot(t, elsewhere))
}

func TestCorruptIndexIsNotTrusted(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim.yaml")
	require.NoError(t, os.WriteFile(victim, []byte("precious\n"), 0o644))
	dir := filepath.Join(outside, "out")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, IndexFile), []byte(indexHeader+"\n../victim.yaml\n"), 0o644))
	before := snapshot(t, outside)

	_, err := Tree(dir, bytesOf(base), Options{})

	require.ErrorContains(t, err, IndexFile+`:2: invalid path "../victim.yaml"`)
	assert.Equal(t, before, snapshot(t, outside))
}

func TestIndexWithCRLFIsRead(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, base, Options{})
	name := filepath.Join(dir, IndexFile)
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(name, []byte(strings.ReplaceAll(string(data), "\n", "\r\n")), 0o644))

	res := tree(t, dir, base, Options{})

	assert.Len(t, res.Unchanged, 4)
	assert.Equal(t, string(data), files(t, dir)[IndexFile], "the index is rewritten in its canonical form")
}

func TestOutputIsDeterministic(t *testing.T) {
	many := map[string]string{}
	for i := range 100 {
		many[fmt.Sprintf("ns%d/app%d/res%03d.yaml", i%7, i%13, i)] = fmt.Sprintf("i: %d\n", i)
	}
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	var first Result
	var firstFiles map[string]string
	for run := range 4 {
		runtime.GOMAXPROCS(1 + run%2)
		dir := t.TempDir()
		res := tree(t, dir, many, Options{})
		got := files(t, dir)
		assert.IsIncreasing(t, res.Created)
		if run == 0 {
			first, firstFiles = res, got
			continue
		}
		assert.Equal(t, first, res)
		assert.Equal(t, firstFiles, got)
	}
}

// TestStop: a write whose Stop is closed before the files are in place
// returns ErrStopped and leaves the directory exactly as it was: no file,
// directory, index or temporary file changed or added, and an output
// directory that did not exist still does not.
func TestStop(t *testing.T) {
	stopped := make(chan struct{})
	close(stopped)

	dir := t.TempDir()
	tree(t, dir, map[string]string{"keep.yaml": "k\n", "stale/s.yaml": "s\n"}, Options{})
	before := snapshot(t, dir)
	next := map[string]string{"keep.yaml": "k2\n", "new/deep/a.yaml": "a\n"}
	_, err := Tree(dir, bytesOf(next), Options{Stop: stopped})
	require.ErrorIs(t, err, ErrStopped)
	assert.Equal(t, before, snapshot(t, dir))

	fresh := filepath.Join(t.TempDir(), "out")
	_, err = Tree(fresh, bytesOf(next), Options{Stop: stopped})
	require.ErrorIs(t, err, ErrStopped)
	assert.NoDirExists(t, fresh)

	// A Stop that stays open changes nothing about the write.
	res := tree(t, dir, next, Options{Stop: make(chan struct{})})
	assert.Equal(t, Result{Created: []string{"new/deep/a.yaml"}, Updated: []string{"keep.yaml"}, Deleted: []string{"stale/s.yaml"}}, res)
}

// The index records the sources a write is given, keeps them when a later
// write gives none, replaces them when it gives some, and a kiln that
// reads it as before sees comment lines; an index without sources (an
// older kiln's) has none.
func TestSources(t *testing.T) {
	dir := t.TempDir()
	got, err := ReadSources(filepath.Join(dir, "missing"))
	require.NoError(t, err)
	assert.Empty(t, got, "no output, no sources")

	tree(t, dir, map[string]string{"dev/a/x.yaml": "x"}, Options{})
	got, err = ReadSources(dir)
	require.NoError(t, err)
	assert.Empty(t, got, "an index without sources")

	tree(t, dir, map[string]string{"dev/a/x.yaml": "x", "dev/b/y.yaml": "y"}, Options{Sources: map[string]string{"b": "../specs/b", "a": "../specs/a"}})
	assert.Equal(t, []string{"#source a ../specs/a", "#source b ../specs/b", "dev/a/x.yaml", "dev/b/y.yaml"}, index(t, dir))

	res := tree(t, dir, map[string]string{"dev/a/x.yaml": "x", "dev/b/y.yaml": "y"}, Options{})
	assert.Equal(t, []string{"dev/a/x.yaml", "dev/b/y.yaml"}, res.Unchanged)
	got, err = ReadSources(dir)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "../specs/a", "b": "../specs/b"}, got, "kept when a write gives none")

	tree(t, dir, map[string]string{"dev/a/x.yaml": "x"}, Options{Sources: map[string]string{"a": "../specs/a"}})
	assert.Equal(t, []string{"#source a ../specs/a", "dev/a/x.yaml"}, index(t, dir))

	_, err = Tree(dir, bytesOf(map[string]string{"dev/a/x.yaml": "x"}), Options{Sources: map[string]string{"a b": "s"}})
	assert.ErrorContains(t, err, `cannot record source "s" of system "a b"`)
}
