package write

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
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
	// lanes are the staging directory's subdirectories, one per
	// goroutine staging at once ("" until made): files created in one
	// directory by several goroutines wait on its lock (on ext4, half
	// again the system time, and twice the wall time, for two).
	lanes  chan string
	nlanes int
	// known and read count how Put and PutKnown compared files with
	// those on disk (Compared).
	known, read atomic.Int64
	err         error // the first failure to stage a file
	done        bool  // committed or discarded

	// With a record (UseRecord): rec is the one given, start the file
	// system's clock before any file was put (zero when it could not
	// be read, which trusts nothing), and next the record of what
	// Commit left.
	recording bool
	rec       *Record
	start     int64
	next      *Record
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
	// With a record: the content's digest and, for a file found the
	// same, its identity then and the stamp read before it (recorded).
	digest   Digest
	digested bool
	found    recorded
}

// stagePrefix names the staging directory: a temporary name (tempPattern)
// which a tool listing the output directory ignores.
const stagePrefix = ".kiln-tmp-stage-"

// NewStage starts a write to the output directory dir. Nothing is done on
// disk before a file is put; with dryRun, nothing at all: Put only
// compares each file with the one on disk.
func NewStage(dir string, dryRun bool) *Stage {
	lanes := make(chan string, runtime.GOMAXPROCS(0))
	for range cap(lanes) {
		lanes <- ""
	}
	return &Stage{root: dir, dryRun: dryRun, files: map[string]*entry{}, lanes: lanes}
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
	var d *Digest
	if s.recording {
		sum := Sum(data)
		d = &sum
	}
	return s.put(p, data, d)
}

// PutSum is Put for a caller that has data's digest d already (Sum).
func (s *Stage) PutSum(p string, data []byte, d Digest) error {
	return s.put(p, data, &d)
}

// put is Put, with data's digest when the stage records (nil
// otherwise).
func (s *Stage) put(p string, data []byte, d *Digest) error {
	s.live.RLock()
	defer s.live.RUnlock()
	e, err := s.add(p)
	if e == nil {
		return err
	}
	if s.keep {
		e.data, e.kept = data, true
		return nil
	}
	if checkPath(p) != nil {
		return nil // Commit says what is wrong with it
	}
	target := filepath.Join(s.root, filepath.FromSlash(p))
	if s.recording && d != nil {
		e.digest, e.digested = *d, true
		if k, ok := s.Check(p, e.digest); ok {
			e.setSame(k)
			s.known.Add(1)
			return nil
		}
	}
	fi, ok, read := sameFile(target, data)
	if read {
		s.read.Add(1)
	}
	if ok {
		e.same, e.size, e.mod = true, fi.Size(), fi.ModTime()
		if id, ok := identify(fi); ok && s.recording {
			e.found = recorded{id: id, stamp: s.start, digest: e.digest}
		}
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

// UseRecord has the stage use r, a Record of an earlier write to the
// same output directory (nil when there is none), to tell that files on
// disk hold the content put without reading them, and make a record of
// what Commit leaves (Record). It is called before the first Put.
func (s *Stage) UseRecord(r *Record) {
	s.recording, s.rec = true, r
	if !s.dryRun {
		// Read before any file is looked at: what Put finds the same
		// is recorded with it.
		s.start, _ = clock(s.root)
	}
}

// Record returns the record of the files a successful Commit left: nil
// without UseRecord, after a dry run, or before Commit.
func (s *Stage) Record() *Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// Known is a file on disk that the stage's record proves holds given
// content (Check).
type Known struct {
	fi fs.FileInfo
	r  recorded
}

// Check reports whether the record given to UseRecord proves the file at
// the slash-separated relative path p holds the content whose digest is
// d, from an Lstat of it: then PutKnown puts it as Put would put that
// content, without the content. Check changes nothing.
func (s *Stage) Check(p string, d Digest) (Known, bool) {
	if s.rec == nil || checkPath(p) != nil {
		return Known{}, false
	}
	r, ok := s.rec.files[p]
	if !ok || r.digest != d {
		return Known{}, false
	}
	fi, err := os.Lstat(filepath.Join(s.root, filepath.FromSlash(p)))
	if err != nil {
		return Known{}, false
	}
	if id, ok := identify(fi); !ok || !r.trusted(id) {
		return Known{}, false
	}
	return Known{fi, r}, true
}

// PutKnown puts the file at p that Check found on disk, as Put would put
// its content: the same as the one on disk. It fails as Put does.
func (s *Stage) PutKnown(p string, k Known) error {
	e, err := s.add(p)
	if e == nil {
		return err
	}
	e.setSame(k)
	s.known.Add(1)
	return nil
}

// Compared says how the files put were compared with those on disk: known
// from the record alone, and read.
func (s *Stage) Compared() (known, read int) {
	return int(s.known.Load()), int(s.read.Load())
}

// setSame makes e a file found on disk with its content, as k says.
func (e *entry) setSame(k Known) {
	e.same, e.size, e.mod = true, k.fi.Size(), k.fi.ModTime()
	e.digest, e.digested, e.found = k.r.digest, true, k.r
}

// record returns the record of the files the committed plan p left:
// those found the same, with the identity they were found with; those
// written, as they are now, read after a stamp; and the old record's
// entries of files out of the write's scope, which it left alone.
func (s *Stage) record(p *plan) *Record {
	next := &Record{files: map[string]recorded{}}
	if s.rec != nil {
		for _, f := range p.keep {
			if r, ok := s.rec.files[f]; ok {
				next.files[f] = r
			}
		}
	}
	stamp, stamped := clock(s.root)
	if stamped && len(p.writes) > 0 {
		// Every file written changed at or before stamp, most of them
		// in its tick, which would leave them untrusted and read again
		// by the next render: wait for the clock to move on (a tick is
		// a few milliseconds), then read the identities.
		deadline := time.Now().Add(100 * time.Millisecond)
		for time.Now().Before(deadline) {
			now, ok := clock(s.root)
			if !ok {
				break
			}
			if now > stamp {
				stamp = now
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	for f, e := range s.files {
		switch {
		case !e.digested:
		case e.same:
			if e.found.stamp != 0 {
				next.files[f] = e.found
			}
		case stamped:
			fi, err := os.Lstat(p.full(f))
			if err != nil {
				continue
			}
			if id, ok := identify(fi); ok {
				next.files[f] = recorded{id: id, stamp: stamp, digest: e.digest}
			}
		}
	}
	return next
}

// add adds the entry of a file put at p and returns it; nil, with the
// error Put returns, when there is nothing more to do: the stage is
// discarded (ErrStopped), or p was put before (an error Commit reports:
// the caller may find out why first, two systems of one name, and say
// it better). s.live is held for reading.
func (s *Stage) add(p string) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil, ErrStopped
	}
	if _, dup := s.files[p]; dup {
		if s.err == nil {
			s.err = fmt.Errorf("two files would be written to %s", p)
		}
		return nil, nil
	}
	e := &entry{}
	s.files[p] = e
	return e, nil
}

// sameFile reports whether name is a regular file holding exactly data,
// with what Lstat said of it, and whether it read the file to tell (only
// a regular file of data's size is read). A file that cannot be read
// differs.
func sameFile(name string, data []byte) (_ fs.FileInfo, same, read bool) {
	fi, err := os.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
		return nil, false, false
	}
	f, err := open(name)
	if err != nil {
		return nil, false, false
	}
	defer f.Close()
	// One byte more than data, to see the file did not grow meanwhile.
	buf := make([]byte, len(data)+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, false, true
	}
	return fi, n == len(data) && bytes.Equal(buf[:n], data), true
}

// stage writes data to a new file in one of the staging directory's
// lanes, made 0644 (and synced, where the file system cannot be synced
// at once), and returns its name: the staging directory's name and a
// number, unique in the output directory (see moveBeside).
func (s *Stage) stage(data []byte) (string, error) {
	s.mu.Lock()
	if s.dir == "" {
		if err := s.makeDir(); err != nil {
			s.mu.Unlock()
			return "", err
		}
	}
	s.seq++
	base := filepath.Base(s.dir) + "-" + strconv.Itoa(s.seq)
	s.mu.Unlock()
	lane := <-s.lanes
	defer func() { s.lanes <- lane }()
	if lane == "" {
		s.mu.Lock()
		s.nlanes++
		l := filepath.Join(s.dir, strconv.Itoa(s.nlanes))
		s.mu.Unlock()
		if err := os.Mkdir(l, 0o700); err != nil {
			return "", err
		}
		lane = l
	}
	name := filepath.Join(lane, base)
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
	if s.recording {
		s.next = s.record(p)
	}
	return p.result, nil
}
