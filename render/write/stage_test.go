package write

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStreamed runs Tree's tests with Tree staging each file as it is put,
// the way a Stage fed by a renderer does: every guarantee holds both ways.
func TestStreamed(t *testing.T) {
	treeStreams = true
	t.Cleanup(func() { treeStreams = false })
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"FirstWriteCreatesFilesAndIndex", TestFirstWriteCreatesFilesAndIndex},
		{"IdenticalWriteChangesNothing", TestIdenticalWriteChangesNothing},
		{"ChangedFileIsUpdated", TestChangedFileIsUpdated},
		{"AddedFileIsCreated", TestAddedFileIsCreated},
		{"RemovedFileIsDeletedWithEmptyDirs", TestRemovedFileIsDeletedWithEmptyDirs},
		{"UserFileAtGeneratedPathFails", TestUserFileAtGeneratedPathFails},
		{"UserFilesElsewhereAreNeverTouched", TestUserFilesElsewhereAreNeverTouched},
		{"Scope", TestScope},
		{"InvalidPathsWriteNothing", TestInvalidPathsWriteNothing},
		{"DryRunWritesNothing", TestDryRunWritesNothing},
		{"FailureMidwayLeavesNoTempFiles", TestFailureMidwayLeavesNoTempFiles},
		{"SymlinksAreNotFollowed", TestSymlinksAreNotFollowed},
		{"CorruptIndexIsNotTrusted", TestCorruptIndexIsNotTrusted},
		{"IndexWithCRLFIsRead", TestIndexWithCRLFIsRead},
		{"OutputIsDeterministic", TestOutputIsDeterministic},
		{"Stop", TestStop},
		{"Sources", TestSources},
	} {
		t.Run(tc.name, tc.test)
	}
}

// putAll puts files from several goroutines at once, as EmitFiles does.
func putAll(t *testing.T, s *Stage, files map[string]string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(files))
	for p, data := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Put(p, []byte(data))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestStageWritesWhatWasPut(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{"a.yaml": "a: 1\n", "stale/s.yaml": "s\n"}, Options{})
	age(t, dir)
	many := map[string]string{"a.yaml": "a: 1\n"}
	for i := range 200 {
		many[fmt.Sprintf("ns%d/res%03d.yaml", i%7, i)] = fmt.Sprintf("i: %d\n", i)
	}
	s := NewStage(dir, false)
	putAll(t, s, many)
	assert.Equal(t, len(many), s.Len())
	res, err := s.Commit(Options{})
	require.NoError(t, err)
	assert.Len(t, res.Created, 200)
	assert.Equal(t, []string{"a.yaml"}, res.Unchanged)
	assert.Equal(t, []string{"stale/s.yaml"}, res.Deleted)
	snap := snapshot(t, dir)
	assert.True(t, oldTime.Equal(snap["a.yaml"].MTime), "an unchanged file is not rewritten")
	got := files(t, dir)
	delete(got, IndexFile)
	assert.Equal(t, many, got)
	noTemp(t, dir)

	// A stage is used once.
	_, err = s.Commit(Options{})
	assert.ErrorIs(t, err, ErrStopped)
	assert.ErrorIs(t, s.Put("b.yaml", nil), ErrStopped)
}

// A stage discarded part way (the spec had errors, a signal came) leaves
// the output directory as it was, with nothing staged left behind, and
// an output directory it made is removed again.
func TestStageDiscard(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, base, Options{})
	age(t, dir)
	before := snapshot(t, dir)

	s := NewStage(dir, false)
	putAll(t, s, map[string]string{"a.yaml": "a: 2\n", "new/x.yaml": "x\n", "apps/web/svc.yaml": base["apps/web/svc.yaml"]})
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var staging []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			staging = append(staging, e.Name())
		}
	}
	require.Len(t, staging, 1, "the changed files are on disk, staged")
	s.Discard()
	s.Discard()
	after := snapshot(t, dir)
	delete(before, ".") // its time changed with the staging directory
	delete(after, ".")
	assert.Equal(t, before, after)
	assert.ErrorIs(t, s.Put("b.yaml", nil), ErrStopped)
	_, err = s.Commit(Options{})
	assert.ErrorIs(t, err, ErrStopped)

	fresh := filepath.Join(t.TempDir(), "out")
	s = NewStage(fresh, false)
	putAll(t, s, base)
	require.DirExists(t, fresh)
	s.Discard()
	assert.NoDirExists(t, fresh)
}

// Discard may come while files are being put (a signal handler's): once
// it returns, nothing is left, whatever the puts still under way do.
func TestStageDiscardWhilePutting(t *testing.T) {
	fresh := filepath.Join(t.TempDir(), "out")
	s := NewStage(fresh, false)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := s.Put(fmt.Sprintf("g%d/f%d.yaml", g, i), []byte("x\n")); err != nil {
					require.ErrorIs(t, err, ErrStopped)
					return
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	s.Discard()
	wg.Wait()
	assert.NoDirExists(t, fresh)
}

// A file that held the new bytes when it was put (so they were not kept)
// and was changed before the commit cannot be written: the write fails
// with nothing changed, and says to run kiln again.
func TestStageFileChangedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, base, Options{})
	s := NewStage(dir, false)
	putAll(t, s, with(base, "a.yaml", "a: 2\n"))
	name := filepath.Join(dir, "apps", "db", "sts.yaml")
	require.NoError(t, os.WriteFile(name, []byte("kind: Edited\n"), 0o644))
	before := snapshot(t, dir)
	_, err := s.Commit(Options{})
	require.ErrorContains(t, err, name+" changed while kiln was rendering; run kiln again")
	after := snapshot(t, dir)
	for rel := range before {
		if strings.HasPrefix(rel, stagePrefix) {
			delete(before, rel)
		}
	}
	delete(before, ".") // its time changed with the staging directory
	delete(after, ".")
	assert.Equal(t, before, after)
	noTemp(t, dir)
}

func TestStagePathTwice(t *testing.T) {
	s := NewStage(t.TempDir(), false)
	defer s.Discard()
	require.NoError(t, s.Put("a.yaml", []byte("1\n")))
	require.NoError(t, s.Put("a.yaml", []byte("2\n")))
	_, err := s.Commit(Options{})
	assert.EqualError(t, err, "two files would be written to a.yaml")
}

// A dry run compares the files with the disk as they are put and writes
// nothing, not even a staging directory.
func TestStageDryRun(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, base, Options{})
	age(t, dir)
	before := snapshot(t, dir)
	s := NewStage(dir, true)
	putAll(t, s, with(without(base, "apps/db/sts.yaml"), "a.yaml", "a: 2\n", "new/x.yaml", "x\n"))
	assert.Equal(t, before, snapshot(t, dir))
	res, err := s.Commit(Options{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, Result{
		Created:   []string{"new/x.yaml"},
		Updated:   []string{"a.yaml"},
		Deleted:   []string{"apps/db/sts.yaml"},
		Unchanged: []string{"apps/web/deploy.yaml", "apps/web/svc.yaml"},
	}, res)
	assert.Equal(t, before, snapshot(t, dir))
}

// Files are staged in lanes, one subdirectory per goroutine staging at
// once, each named after the staging directory and a number, so that the
// name moveBeside gives a file beside its target is unique.
func TestStageLanes(t *testing.T) {
	dir := t.TempDir()
	s := NewStage(dir, false)
	defer s.Discard()
	many := map[string]string{}
	for i := range 300 {
		many[fmt.Sprintf("ns%d/res%03d.yaml", i%5, i)] = fmt.Sprintf("i: %d\n", i)
	}
	putAll(t, s, many)
	entries, err := os.ReadDir(s.dir)
	require.NoError(t, err)
	assert.NotEmpty(t, entries)
	assert.LessOrEqual(t, len(entries), runtime.GOMAXPROCS(0))
	seen := map[string]bool{}
	for _, lane := range entries {
		require.True(t, lane.IsDir(), lane.Name())
		files, err := os.ReadDir(filepath.Join(s.dir, lane.Name()))
		require.NoError(t, err)
		for _, f := range files {
			assert.True(t, strings.HasPrefix(f.Name(), filepath.Base(s.dir)+"-"), f.Name())
			assert.False(t, seen[f.Name()], "%s staged twice", f.Name())
			seen[f.Name()] = true
		}
	}
	assert.Len(t, seen, len(many))
	res, err := s.Commit(Options{})
	require.NoError(t, err)
	assert.Len(t, res.Created, len(many))
	noTemp(t, dir)
}
