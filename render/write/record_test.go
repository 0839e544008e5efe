//go:build linux

package write

import (
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// laterClock has the stamps read well after the files were written, as
// they are in practice for all but the last few files of a write: in a
// test, files are written within a tick of the file system's clock, so
// every one would be too fresh to trust.
func laterClock(t *testing.T) {
	clock = func(dir string) (int64, bool) {
		time.Sleep(30 * time.Millisecond)
		return fsClock(dir)
	}
	t.Cleanup(func() { clock = fsClock })
}

// countOpens counts the files sameFile reads.
func countOpens(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	open = func(name string) (*os.File, error) {
		n.Add(1)
		return os.Open(name)
	}
	t.Cleanup(func() { open = os.Open })
	return &n
}

// recordedWrite puts files in a stage using rec, commits, and returns the
// result and the new record.
func recordedWrite(t *testing.T, dir string, rec *Record, files map[string]string, opts Options) (Result, *Record) {
	t.Helper()
	s := NewStage(dir, opts.DryRun)
	s.UseRecord(rec)
	putAll(t, s, files)
	res, err := s.Commit(opts)
	require.NoError(t, err)
	return res, s.Record()
}

var recordFiles = map[string]string{
	"a.yaml":       "a: 1\n",
	"ns/b.yaml":    "b: 2\n",
	"ns/c/d.yaml":  "d: 4\n",
	"kustomiz.yml": "resources: []\n",
}

func TestRecordSparesReadingUnchangedFiles(t *testing.T) {
	laterClock(t)
	dir := t.TempDir()
	res, rec := recordedWrite(t, dir, nil, recordFiles, Options{})
	require.Len(t, res.Created, len(recordFiles))
	require.NotNil(t, rec)
	assert.Len(t, rec.files, len(recordFiles))

	opens := countOpens(t)
	s := NewStage(dir, false)
	s.UseRecord(rec)
	putAll(t, s, recordFiles)
	known, read := s.Compared()
	assert.Equal(t, len(recordFiles), known)
	assert.Zero(t, read)
	res, err := s.Commit(Options{})
	require.NoError(t, err)
	rec2 := s.Record()
	assert.Len(t, res.Unchanged, len(recordFiles))
	assert.Zero(t, opens.Load(), "files the record proves unchanged were read")
	assert.Equal(t, rec.files, rec2.files, "an unchanged file keeps its entry")

	// Without the record, every file is read.
	s = NewStage(dir, false)
	s.UseRecord(nil)
	putAll(t, s, recordFiles)
	known, read = s.Compared()
	assert.Zero(t, known)
	assert.Equal(t, len(recordFiles), read)
	res, err = s.Commit(Options{})
	require.NoError(t, err)
	assert.Len(t, res.Unchanged, len(recordFiles))
	assert.EqualValues(t, len(recordFiles), opens.Load())
}

// A file changed after the record was made is read and rewritten, even
// when the change kept its size and modification time: its change time
// moved, and no one can set that back.
func TestRecordChangedFileIsRead(t *testing.T) {
	laterClock(t)
	for name, change := range map[string]func(t *testing.T, name string){
		"in place, mtime restored": func(t *testing.T, name string) {
			fi, err := os.Stat(name)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(name, []byte("b: 3\n"), 0o644))
			require.NoError(t, os.Chtimes(name, fi.ModTime(), fi.ModTime()))
		},
		"replaced, mtime restored": func(t *testing.T, name string) {
			fi, err := os.Stat(name)
			require.NoError(t, err)
			tmp := name + ".new"
			require.NoError(t, os.WriteFile(tmp, []byte("b: 3\n"), 0o644))
			require.NoError(t, os.Chtimes(tmp, fi.ModTime(), fi.ModTime()))
			require.NoError(t, os.Rename(tmp, name))
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_, rec := recordedWrite(t, dir, nil, recordFiles, Options{})
			target := filepath.Join(dir, "ns", "b.yaml")
			change(t, target)
			opens := countOpens(t)
			res, _ := recordedWrite(t, dir, rec, recordFiles, Options{})
			assert.Equal(t, []string{"ns/b.yaml"}, res.Updated)
			assert.EqualValues(t, 1, opens.Load())
			got, err := os.ReadFile(target)
			require.NoError(t, err)
			assert.Equal(t, "b: 2\n", string(got))
		})
	}
}

// New content for a file the record knows is compared with the file on
// disk, not with the record: the record proves only what it recorded.
func TestRecordNewContentIsWritten(t *testing.T) {
	laterClock(t)
	dir := t.TempDir()
	_, rec := recordedWrite(t, dir, nil, recordFiles, Options{})
	next := map[string]string{}
	for p, c := range recordFiles {
		next[p] = c
	}
	next["a.yaml"] = "a: 9\n" // same size
	res, rec2 := recordedWrite(t, dir, rec, next, Options{})
	assert.Equal(t, []string{"a.yaml"}, res.Updated)
	assert.Equal(t, Sum([]byte("a: 9\n")), rec2.files["a.yaml"].digest)

	// The record of that write proves the new content, not the old.
	s := NewStage(dir, false)
	s.UseRecord(rec2)
	_, ok := s.Check("a.yaml", Sum([]byte("a: 1\n")))
	assert.False(t, ok)
	_, ok = s.Check("a.yaml", Sum([]byte("a: 9\n")))
	assert.True(t, ok)
	s.Discard()
}

// PutKnown puts what Check proved, without the content: the write is the
// one Put would have made.
func TestRecordPutKnown(t *testing.T) {
	laterClock(t)
	dir := t.TempDir()
	_, rec := recordedWrite(t, dir, nil, recordFiles, Options{})
	opens := countOpens(t)
	s := NewStage(dir, false)
	s.UseRecord(rec)
	for p, c := range recordFiles {
		k, ok := s.Check(p, Sum([]byte(c)))
		require.True(t, ok, p)
		require.NoError(t, s.PutKnown(p, k))
	}
	_, ok := s.Check("missing.yaml", Sum(nil))
	assert.False(t, ok, "a file the record does not know")
	_, ok = s.Check("../a.yaml", Sum([]byte("a: 1\n")))
	assert.False(t, ok, "an invalid path")
	res, err := s.Commit(Options{})
	require.NoError(t, err)
	assert.Len(t, res.Unchanged, len(recordFiles))
	assert.Zero(t, opens.Load())
	assert.Equal(t, rec.files, s.Record().files)

	// A file Check proved and then removed before Commit is an error,
	// as for a file Put found the same.
	s = NewStage(dir, false)
	s.UseRecord(rec)
	k, ok := s.Check("a.yaml", Sum([]byte("a: 1\n")))
	require.True(t, ok)
	require.NoError(t, s.PutKnown("a.yaml", k))
	require.NoError(t, os.Remove(filepath.Join(dir, "a.yaml")))
	_, err = s.Commit(Options{})
	assert.ErrorContains(t, err, "changed while kiln was rendering")
}

// Files out of a write's scope keep their entries; files it deletes lose
// theirs.
func TestRecordScope(t *testing.T) {
	laterClock(t)
	dir := t.TempDir()
	_, rec := recordedWrite(t, dir, nil, recordFiles, Options{})
	only := map[string]string{"a.yaml": recordFiles["a.yaml"]}
	inNS := func(p string) bool { return filepath.Dir(p) == "ns" }
	res, rec2 := recordedWrite(t, dir, rec, only, Options{Scope: inNS})
	assert.Equal(t, []string{"ns/b.yaml"}, res.Deleted)
	want := slices.DeleteFunc(slices.Sorted(func(yield func(string) bool) {
		for p := range recordFiles {
			if !yield(p) {
				return
			}
		}
	}), func(p string) bool { return p == "ns/b.yaml" })
	got := []string{}
	for p, e := range rec2.files {
		got = append(got, p)
		assert.Equal(t, rec.files[p], e, p)
	}
	slices.Sort(got)
	assert.Equal(t, want, got)
}

// A dry run makes no record, and a write without UseRecord none either.
func TestRecordOnlyOfWrites(t *testing.T) {
	dir := t.TempDir()
	_, rec := recordedWrite(t, dir, nil, recordFiles, Options{DryRun: true})
	assert.Nil(t, rec)
	s := NewStage(dir, false)
	putAll(t, s, recordFiles)
	_, err := s.Commit(Options{})
	require.NoError(t, err)
	assert.Nil(t, s.Record())
}

// An entry is trusted only for the identity it recorded, and only when
// the file's change time is before the stamp read before it: a file
// changed in the tick the stamp was read could change again unseen.
func TestRecordTrust(t *testing.T) {
	id := fileID{size: 5, mtime: 100, ctime: 200, dev: 1, ino: 7}
	r := recorded{id: id, stamp: 201}
	assert.True(t, r.trusted(id))
	for name, other := range map[string]fileID{
		"size":  {size: 6, mtime: 100, ctime: 200, dev: 1, ino: 7},
		"mtime": {size: 5, mtime: 101, ctime: 200, dev: 1, ino: 7},
		"ctime": {size: 5, mtime: 100, ctime: 202, dev: 1, ino: 7},
		"dev":   {size: 5, mtime: 100, ctime: 200, dev: 2, ino: 7},
		"ino":   {size: 5, mtime: 100, ctime: 200, dev: 1, ino: 8},
	} {
		assert.False(t, r.trusted(other), name)
	}
	r.stamp = 200
	assert.False(t, r.trusted(id), "changed in the stamp's tick")

	// The real clock: a file just written is not before a stamp read in
	// the same tick, or is, once the clock has moved on.
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(name, []byte("x"), 0o644))
	fi, err := os.Lstat(name)
	require.NoError(t, err)
	fid, ok := identify(fi)
	require.True(t, ok)
	time.Sleep(30 * time.Millisecond)
	stamp, ok := fsClock(dir)
	require.True(t, ok)
	assert.Greater(t, stamp, fid.ctime)
	dfi, err := os.Lstat(dir)
	require.NoError(t, err)
	_, ok = fsClock(dir)
	require.True(t, ok)
	after, err := os.Lstat(dir)
	require.NoError(t, err)
	assert.Equal(t, dfi.ModTime(), after.ModTime(), "reading the clock changed the directory's modification time")
	_, ok = fsClock(filepath.Join(dir, "missing"))
	assert.False(t, ok)
}

func TestRecordEncoding(t *testing.T) {
	laterClock(t)
	dir := t.TempDir()
	_, rec := recordedWrite(t, dir, nil, recordFiles, Options{})
	data, err := rec.MarshalBinary()
	require.NoError(t, err)
	again, err := rec.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, data, again, "encoding is deterministic")
	var got Record
	require.NoError(t, got.UnmarshalBinary(data))
	assert.Equal(t, rec.files, got.files)

	for name, bad := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("kiln-write-record-0\n"), data[len(recordMagic):]...),
		"truncated": data[:len(data)-1],
		"trailing":  append(slices.Clone(data), 0),
		"count":     append(slices.Clone(recordMagic), 0xff, 0xff, 0xff, 0x7f),
	} {
		var r Record
		assert.Error(t, r.UnmarshalBinary(bad), name)
	}
	var empty Record
	data, err = (*Record)(nil).MarshalBinary()
	require.NoError(t, err)
	require.NoError(t, empty.UnmarshalBinary(data))
	assert.Empty(t, empty.files)
}

// PutSum is Put with the digest given: the same write and record.
func TestRecordPutSum(t *testing.T) {
	laterClock(t)
	dir := t.TempDir()
	s := NewStage(dir, false)
	s.UseRecord(nil)
	for p, c := range recordFiles {
		require.NoError(t, s.PutSum(p, []byte(c), Sum([]byte(c))))
	}
	res, err := s.Commit(Options{})
	require.NoError(t, err)
	assert.Len(t, res.Created, len(recordFiles))
	for p, c := range recordFiles {
		assert.Equal(t, Sum([]byte(c)), s.Record().files[p].digest, p)
	}
	opens := countOpens(t)
	_, rec := recordedWrite(t, dir, s.Record(), recordFiles, Options{})
	assert.Zero(t, opens.Load())
	assert.Len(t, rec.files, len(recordFiles))
}
