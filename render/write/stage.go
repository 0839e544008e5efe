package write

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Stage is a write whose files arrive one at a time, as a renderer encodes
// them, so that they need not all be held in memory: Put puts each new or
// changed file on disk at once, in a hidden staging directory below the
// output directory, and keeps only what Commit needs to plan the write
// (whether the file differs from the one on disk). Commit then does what
// Tree does, with the same checks and guarantees, taking the staged
// files instead of bytes; Discard, or a Commit that fails before it
// changes anything, removes the staging directory, and the output
// directory is as it was (only its modification time may show a
// staging directory came and went).
//
// Put may be called from several goroutines at once. Discard may be called
// at any time, from any goroutine (a signal handler's), and any number of
// times: once it returns, nothing of the stage is left on disk and every
// later Put fails with ErrStopped.
type Stage struct {
	root   string
	dryRun bool
	keep   bool // hold the bytes instead of staging them (Tree)

	// live is held for reading while a file is staged and for writing
	// by Discard and Commit, so neither removes the staging directory
	// while a file is being written into it.
	live sync.RWMutex
	mu   sync.Mutex // guards the fields below
	// files are the entries by path.
	files map[string]*entry
	// dir is the staging directory, made with the first file to stage;
	// madeRoot says the output directory was made with it.
	dir      string
	madeRoot bool
	seq      int
	err      error // the first failure to stage a file
	done     bool  // committed or discarded
}

// entry is what a write knows of one file.
type entry struct {
	// data is the content, when the stage keeps it (Tree).
	data []byte
	kept bool
	// tmp is the file in the staging directory holding the content;
	// "" when nothing was staged.
	tmp string
	// same: the file on disk held exactly this content when it was
	// put, and had size and mod then; nothing was staged.
	same bool
	size int64
	mod  time.Time
}

// stagePrefix names the staging directory: a temporary name (tempPattern)
// which a tool listing the output directory ignores.
const stagePrefix = ".kiln-tmp-stage-"

// NewStage starts a write to the output directory dir. Nothing is done on
// disk before a file is put; with dryRun, nothing at all: Put only
// compares each file with the one on disk.
func NewStage(dir string, dryRun bool) *Stage {
	return &Stage{root: dir, dryRun: dryRun, files: map[string]*entry{}}
}

// Len is the number of files put.
func (s *Stage) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

// Put adds the file at the slash-separated relative path p with content
// data, which the stage does not keep: a file that differs from the one on
// disk is written to the staging directory now. A path put twice is an
// error Commit reports (the second content is dropped). An invalid path
// (see Tree) is remembered and reported by Commit, with every other
// problem, as Tree reports it, and so is a failure to stage a file (after
// the problems Tree finds, which explain it better: an output directory
// that is a file). Put fails only once the stage is discarded, with
// ErrStopped.
func (s *Stage) Put(p string, data []byte) error {
	s.live.RLock()
	defer s.live.RUnlock()
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return ErrStopped
	}
	if _, dup := s.files[p]; dup {
		// Reported by Commit: the caller may find out why first (two
		// systems of one name), and say it better.
		if s.err == nil {
			s.err = fmt.Errorf("two files would be written to %s", p)
		}
		s.mu.Unlock()
		return nil
	}
	e := &entry{}
	s.files[p] = e
	s.mu.Unlock()

	if s.keep {
		e.data, e.kept = data, true
		return nil
	}
	if checkPath(p) != nil {
		return nil // Commit says what is wrong with it
	}
	target := filepath.Join(s.root, filepath.FromSlash(p))
	if fi, ok := sameFile(target, data); ok {
		e.same, e.size, e.mod = true, fi.Size(), fi.ModTime()
		return nil
	}
	if s.dryRun {
		return nil
	}
	s.mu.Lock()
	failed := s.err != nil
	s.mu.Unlock()
	if failed {
		return nil // the write will fail: staging more is no use
	}
	tmp, err := s.stage(data)
	if err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
		return nil
	}
	e.tmp = tmp
	return nil
}

// sameFile reports whether name is a regular file holding exactly data,
// with what Lstat said of it. A file that cannot be read differs.
func sameFile(name string, data []byte) (fs.FileInfo, bool) {
	fi, err := os.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
		return nil, false
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	// One byte more than data, to see the file did not grow meanwhile.
	buf := make([]byte, len(data)+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, false
	}
	return fi, n == len(data) && bytes.Equal(buf[:n], data)
}

// stage writes data to a new file in the staging directory, made 0644
// (and synced, where the file system cannot be synced at once), and
// returns its name.
func (s *Stage) stage(data []byte) (string, error) {
	s.mu.Lock()
	if s.dir == "" {
		if err := s.makeDir(); err != nil {
			s.mu.Unlock()
			return "", err
		}
	}
	s.seq++
	name := filepath.Join(s.dir, strconv.Itoa(s.seq))
	s.mu.Unlock()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil && !syncsFileSystem {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// makeDir makes the staging directory, and the output directory if it
// does not exist yet. s.mu is held.
func (s *Stage) makeDir() error {
	if s.root == "" {
		return errors.New("no output directory given")
	}
	if _, err := os.Stat(s.root); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(s.root, 0o755); err != nil {
			return err
		}
		s.madeRoot = true
	}
	d, err := os.MkdirTemp(s.root, stagePrefix+"*")
	if err != nil {
		return err
	}
	s.dir = d
	return nil
}

// Discard removes whatever the stage put on disk; the output directory is
// left as it was before the stage began. It is a no-op after Commit.
func (s *Stage) Discard() {
	s.live.Lock()
	defer s.live.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	s.cleanup()
}

// cleanup removes the staging directory, and the output directory when
// the stage made it and it is empty. s.mu is held.
func (s *Stage) cleanup() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
	if s.madeRoot {
		os.Remove(s.root) // only if empty
		s.madeRoot = false
	}
}

// Commit checks every path and the disk, and writes the files put, as
// Tree does (see Tree for the checks, the order of the changes and what a
// failure leaves), with opts.DryRun as given to NewStage. Whatever
// happens, the staging directory is gone when it returns, and the stage
// takes no more files.
func (s *Stage) Commit(opts Options) (Result, error) {
	s.live.Lock()
	defer s.live.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return Result{}, ErrStopped
	}
	s.done = true
	defer s.cleanup()
	if s.root == "" {
		return Result{}, errors.New("no output directory given")
	}
	p, err := newPlan(s.root, s.files, opts, s.madeRoot)
	if err != nil {
		return Result{}, err
	}
	if s.err != nil {
		return Result{}, s.err
	}
	if s.dryRun {
		return p.result, nil
	}
	if err := p.apply(opts.Stop); err != nil {
		return Result{}, err
	}
	s.madeRoot = false // the output directory is the write's now
	return p.result, nil
}
