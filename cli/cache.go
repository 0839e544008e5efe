package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kiln-ml/kiln/cache"
	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/fleet"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/write"
)

// The render cache. kiln render and kiln vet of several systems build
// each on its own (buildAll); a system whose inputs are those of an
// earlier run is read back from the cache instead: its files, its
// diagnostics (positions included) and what fleet checks of it. A key
// covers everything that decides those (systemKey), so a hit gives the
// bytes a build would; a miss, or no cache at all (KILN_CACHE=off),
// builds. Only systems without errors are kept: a spec with errors is the
// one being edited.
//
// kiln check and kiln diff do not use it: check validates the objects
// themselves (with CRDs the key does not cover) and diff compares them
// with the committed ones, so both need the objects, which the cache does
// not keep.

// cacheKind names the entries of this file's format; a change of the
// format of built changes it.
const cacheKind = "kiln system build 3"

// cueEnv are the environment variables CUE reads whatever kiln's load
// configuration says: they can change what a spec means.
var cueEnv = []string{"CUE_EXPERIMENT", "CUE_DEBUG"}

// built is one system built for vet or render, or read from the cache.
type built struct {
	Name string
	// Envs are the rendered environments: their names and output
	// directories (render.Environment's Name and Dir).
	Envs    []builtEnv
	Objects int // countObjects
	Fleet   fleet.System
	Diags   diag.List
	// res is the rendered system when it was built in this run and the
	// caller keeps it (buildResult); nil when read from the cache.
	res *render.Result
}

type builtEnv struct{ Name, Dir string }

// buildMode says what buildAll keeps of each system.
type buildMode int

const (
	buildVet    buildMode = iota // what vet prints and fleet checks
	buildFiles                   // and the files, put as they are encoded, for render
	buildResult                  // and the rendered objects (--stdout); never cached
)

// A render is kept in two entries. Its head is a gob stream of the
// built and then a fileSum per file of the system (render.Files): all a
// hit needs when the output directory's write record (write.Record,
// kept beside the cache: record.go) proves that the files on disk
// hold those contents already, the common case of a render of an
// unchanged system. Its files are a gob stream of one cachedFile per
// file, in no particular order, read only when some file is not proven
// so. The files go from the encoder to the output's write.Stage, and to
// the files entry, as they come, and back from the entry to the stage
// the same way, so that a system's files are never all in memory. The
// files entry is stored before the head, so a head is found only with
// its files (unless the cache was trimmed between: a miss).
type fileSum struct {
	Path   string
	Digest write.Digest
}

type cachedFile struct {
	Path string
	Data []byte
}

// systemCache is the render cache of a run, with its hits and misses for
// --stats; nil when off. Systems are built in parallel: the counts are
// added up afterwards (count), and put is atomic.
type systemCache struct {
	c            *cache.Cache
	hits, misses int
	put          atomic.Bool // an entry was written: trim at the end
}

// cacheOutcome is what the cache did for one system.
type cacheOutcome int

const (
	cacheUnused cacheOutcome = iota // off, or --stdout
	cacheHit
	cacheMiss
)

// count adds one system's outcome to the run's.
func (sc *systemCache) count(o cacheOutcome) {
	switch {
	case sc == nil:
	case o == cacheHit:
		sc.hits++
	case o == cacheMiss:
		sc.misses++
	}
}

// openSystemCache opens the cache the environment asks for (cache.Dir);
// nil when it is off, cannot be made, or the binary cannot be named.
func openSystemCache() *systemCache {
	if cache.BuildID() == "" {
		return nil
	}
	c := cache.Open(cache.Dir(), "systems")
	if c == nil {
		return nil
	}
	return &systemCache{c: c}
}

// close trims the cache when this run added to it.
func (sc *systemCache) close() {
	if sc != nil && sc.put.Load() {
		sc.c.Trim()
	}
}

// systemKey hashes everything that decides what build makes of the spec
// in dir: kiln's own binary, the working directory and dir as given
// (diagnostic positions are relative to them), the environments asked
// for, CUE's environment variables, and the path and bytes of every input
// file (compiler.Inputs). ok is false when the inputs cannot be told; the
// system is then built and not kept.
func systemKey(dir string, envs []string) (k cache.Key, ok bool) {
	files, err := compiler.Inputs(dir)
	if err != nil {
		return k, false
	}
	cwd, err := os.Getwd()
	if err != nil {
		return k, false
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return k, false
	}
	h := cache.NewHash(cacheKind)
	h.String(cache.BuildID())
	h.String(cwd)
	h.String(dir)
	h.String(abs)
	h.String(strconv.Itoa(len(envs)))
	for _, e := range envs {
		h.String(e)
	}
	for _, name := range cueEnv {
		h.String(name + "=" + os.Getenv(name)) // unset is empty to CUE too
	}
	h.String(strconv.Itoa(len(files)))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return k, false
		}
		h.String(f)
		h.Bytes(src)
	}
	return h.Sum(), true
}

// modeKey is the key of a system's entry for a mode: a vet entry has no
// files, so it cannot serve render.
func modeKey(k cache.Key, mode buildMode) cache.Key {
	h := cache.NewHash(cacheKind + " mode")
	h.Bytes(k[:])
	h.String(strconv.Itoa(int(mode)))
	return h.Sum()
}

// filesKey is the key of the files entry of the head at k.
func filesKey(k cache.Key) cache.Key {
	h := cache.NewHash(cacheKind + " files")
	h.Bytes(k[:])
	return h.Sum()
}

// buildCached is build for buildAll: read from the cache when it holds
// the system (for vet, a render entry serves as well), else built and,
// when free of errors, kept. With buildFiles, the system's files are
// put in stage as they are encoded or read. A nil result comes with
// errors. It may run for several systems at once.
func buildCached(ctx context.Context, sc *systemCache, dir string, envs []string, mode buildMode, st *stats, stage *write.Stage) (*built, diag.List, cacheOutcome, error) {
	var key cache.Key
	outcome := cacheUnused
	cacheable := sc != nil && mode != buildResult
	if cacheable {
		outcome = cacheMiss
		key, cacheable = systemKey(dir, envs)
	}
	if cacheable {
		modes := []buildMode{mode}
		if mode == buildVet {
			modes = append(modes, buildFiles)
		}
		for _, m := range modes {
			b, err := sc.get(modeKey(key, m), mode == buildFiles, stage)
			if err != nil {
				return nil, nil, outcome, err
			}
			if b != nil {
				return b, b.Diags, cacheHit, nil
			}
		}
	}
	res, diags, err := buildWithStats(ctx, dir, envs, st)
	if err != nil || res == nil {
		return nil, diags, outcome, err
	}
	b := &built{Name: res.System.Name, Envs: envsOf(res), Objects: countObjects(res), Fleet: fleet.Summarize(res), Diags: diags}
	var entry *entryWriter
	if cacheable {
		entry = sc.create(modeKey(key, mode), b, mode == buildFiles)
	}
	switch mode {
	case buildResult:
		b.res = res
	case buildFiles:
		// res is not used again: EmitFiles drops each object once
		// encoded, and each file goes to disk (and to the cache
		// entry) once encoded, so neither the objects nor the files
		// are all held at once.
		// Nor is the compiled system (its sources' positions alone
		// take some 16 MiB at a thousand models, three environments).
		res.System = nil
		memProfile("encode")
		stop := st.start(encodePhase)
		err = render.EmitFiles(res, func(p string, data []byte) error {
			// One digest for the stage's record and the entry's head.
			sum := write.Sum(data)
			if err := stage.PutSum(p, data, sum); err != nil {
				return err
			}
			entry.add(p, data, sum)
			return nil
		})
		stop()
		if err != nil {
			entry.abort()
			return nil, nil, outcome, err
		}
	}
	// Kept only when the inputs did not change while it was built: the
	// entry must be what those inputs give.
	if entry != nil {
		if again, ok := systemKey(dir, envs); ok && again == key {
			if entry.commit() {
				sc.put.Store(true)
			}
		} else {
			entry.abort()
		}
	}
	return b, diags, outcome, nil
}

// get decodes the entry at k; anything whose built does not decode is a
// miss. With files, the entry must be a render's, and its files are put
// in stage: those the stage's record proves are on disk already without
// their content, the others read from the files entry (all or nothing:
// a files entry that is missing is a miss, with nothing put). A files
// entry whose files, checksum intact, do not decode or are not those of
// the head (which only a kiln writing what it cannot read would make) is
// an error, as some files may have been put already.
func (sc *systemCache) get(k cache.Key, files bool, stage *write.Stage) (*built, error) {
	r, ok := sc.c.Open(k)
	if !ok {
		return nil, nil
	}
	defer r.Close()
	dec := gob.NewDecoder(r)
	var b built
	if err := dec.Decode(&b); err != nil {
		return nil, nil
	}
	if !files {
		return &b, nil
	}
	var sums []fileSum
	if err := dec.Decode(&sums); err != nil {
		return nil, nil
	}
	known := make(map[string]write.Known, len(sums))
	for _, f := range sums {
		if kf, ok := stage.Check(f.Path, f.Digest); ok {
			known[f.Path] = kf
		}
	}
	if len(known) == len(sums) {
		for _, f := range sums {
			if err := stage.PutKnown(f.Path, known[f.Path]); err != nil {
				return nil, err
			}
		}
		return &b, nil
	}
	fr, ok := sc.c.Open(filesKey(k))
	if !ok {
		return nil, nil
	}
	defer fr.Close()
	bad := func(err error) error {
		return fmt.Errorf("render cache entry %s: %w (delete the cache, %s, to go on)", k, err, cache.Dir())
	}
	want := make(map[string]write.Digest, len(sums))
	for _, f := range sums {
		want[f.Path] = f.Digest
	}
	fdec := gob.NewDecoder(fr)
	for {
		var f cachedFile
		err := fdec.Decode(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bad(err)
		}
		sum, ok := want[f.Path]
		if !ok {
			return nil, bad(fmt.Errorf("%s is not a file of the entry, or comes twice", f.Path))
		}
		delete(want, f.Path)
		if kf, ok := known[f.Path]; ok {
			err = stage.PutKnown(f.Path, kf)
		} else {
			// The entry's checksum held: sum is the data's.
			err = stage.PutSum(f.Path, f.Data, sum)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(want) > 0 {
		return nil, bad(fmt.Errorf("%d files of the entry are missing", len(want)))
	}
	return &b, nil
}

// entryWriter writes a system's entries as it is built: its files as
// they come (cachedFile), from several goroutines at once, then its head
// (the built and the files' sums). A nil entryWriter does nothing.
type entryWriter struct {
	sc    *systemCache
	k     cache.Key // the head's
	b     *built
	mu    sync.Mutex
	files *cache.Writer // nil for a vet entry
	enc   *gob.Encoder
	sums  []fileSum
	err   error
}

// create starts the entries of b at k (with a files entry when files is
// set); nil when they cannot be written.
func (sc *systemCache) create(k cache.Key, b *built, files bool) *entryWriter {
	e := &entryWriter{sc: sc, k: k, b: b}
	if files {
		w, err := sc.c.Create(filesKey(k))
		if err != nil || w == nil {
			return nil
		}
		e.files, e.enc = w, gob.NewEncoder(w)
	}
	return e
}

func (e *entryWriter) add(p string, data []byte, sum write.Digest) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.sums = append(e.sums, fileSum{p, sum})
		e.err = e.enc.Encode(cachedFile{p, data})
	}
}

// commit stores the entries, reporting whether it did: the files first,
// so that a head is never found without them.
func (e *entryWriter) commit() bool {
	if e == nil {
		return false
	}
	if e.err != nil {
		e.abort()
		return false
	}
	if e.files != nil {
		if e.files.Commit() != nil {
			return false
		}
	}
	var head bytes.Buffer
	enc := gob.NewEncoder(&head)
	if err := enc.Encode(e.b); err != nil {
		return false
	}
	if e.files != nil {
		// In path order: the head's bytes do not depend on the order
		// the encoders finished in.
		slices.SortFunc(e.sums, func(a, b fileSum) int { return strings.Compare(a.Path, b.Path) })
		if err := enc.Encode(e.sums); err != nil {
			return false
		}
	}
	return e.sc.c.Put(e.k, head.Bytes()) == nil
}

func (e *entryWriter) abort() {
	if e != nil && e.files != nil {
		e.files.Abort()
	}
}

// specMemo is compiler.SpecMemo in the cache directory (specs/): DIR/...
// parses every .cue file below DIR to find the specs, which takes longer
// than reading a render's every system from the cache. One entry per
// searched directory (by its absolute path and the binary, whose CUE
// parser decides) holds the verdicts of its last search, by the digest
// of each directory's files: a search keeps what it used and adds what it
// parsed, so the entry is as large as the tree and no larger, and is
// written only when it changed.
type specMemo struct {
	c    *cache.Cache
	k    cache.Key
	old  map[[sha256.Size]byte]bool // as read
	used map[[sha256.Size]byte]bool // looked up or stored by this search
}

// specMemoKind names the entries of this format.
const specMemoKind = "kiln spec directories 1"

// specMemoLimit bounds the entries: 33 bytes a directory, so a tree of
// 10,000 spec directories takes 330 KB.
const specMemoLimit = 16 << 20

// openSpecMemo reads the memo of the search of root; nil when the cache
// is off or the binary cannot be named.
func openSpecMemo(root string) *specMemo {
	id := cache.BuildID()
	abs, err := filepath.Abs(root)
	c := cache.Open(cache.Dir(), "specs")
	if id == "" || err != nil || c == nil {
		return nil
	}
	c.Limit = specMemoLimit
	h := cache.NewHash(specMemoKind)
	h.String(id)
	h.String(abs)
	m := &specMemo{c: c, k: h.Sum(), old: map[[sha256.Size]byte]bool{}, used: map[[sha256.Size]byte]bool{}}
	if v, ok := c.Get(m.k); ok && len(v)%(sha256.Size+1) == 0 {
		for ; len(v) > 0; v = v[sha256.Size+1:] {
			m.old[[sha256.Size]byte(v[:sha256.Size])] = v[sha256.Size] == 1
		}
	}
	return m
}

func (m *specMemo) Lookup(sum [sha256.Size]byte) (spec, ok bool) {
	spec, ok = m.old[sum]
	if ok {
		m.used[sum] = spec
	}
	return spec, ok
}

func (m *specMemo) Store(sum [sha256.Size]byte, spec bool) { m.used[sum] = spec }

// close writes what the search used, when it differs from what it read.
func (m *specMemo) close() {
	if maps.Equal(m.old, m.used) {
		return
	}
	v := make([]byte, 0, len(m.used)*(sha256.Size+1))
	for _, sum := range slices.SortedFunc(maps.Keys(m.used), func(a, b [sha256.Size]byte) int { return bytes.Compare(a[:], b[:]) }) {
		v = append(v, sum[:]...)
		if m.used[sum] {
			v = append(v, 1)
		} else {
			v = append(v, 0)
		}
	}
	if m.c.Put(m.k, v) == nil {
		m.c.Trim()
	}
}
