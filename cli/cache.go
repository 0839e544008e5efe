package cli

import (
	"bytes"
	"context"
	"encoding/gob"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/kiln-ml/kiln/cache"
	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/fleet"
	"github.com/kiln-ml/kiln/render"
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
const cacheKind = "kiln system build 1"

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
	// Files are render.Files of the system; nil when built for vet.
	Files map[string][]byte
	// res is the rendered system when it was built in this run and the
	// caller keeps it (buildResult); nil when read from the cache.
	res *render.Result
}

type builtEnv struct{ Name, Dir string }

// buildMode says what buildAll keeps of each system.
type buildMode int

const (
	buildVet    buildMode = iota // what vet prints and fleet checks
	buildFiles                   // and the files, for render
	buildResult                  // and the rendered objects (--stdout); never cached
)

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

// buildCached is build for buildAll: read from the cache when it holds
// the system (for vet, a render entry serves as well), else built and,
// when free of errors, kept. A nil result comes with errors. It may run
// for several systems at once.
func buildCached(ctx context.Context, sc *systemCache, dir string, envs []string, mode buildMode, st *stats) (*built, diag.List, cacheOutcome, error) {
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
			if b := sc.get(modeKey(key, m)); b != nil {
				return b, b.Diags, cacheHit, nil
			}
		}
	}
	res, diags, err := buildWithStats(ctx, dir, envs, st)
	if err != nil || res == nil {
		return nil, diags, outcome, err
	}
	b := &built{Name: res.System.Name, Envs: envsOf(res), Objects: countObjects(res), Fleet: fleet.Summarize(res), Diags: diags}
	switch mode {
	case buildResult:
		b.res = res
	case buildFiles:
		// res is not used again: TakeFiles drops each object once
		// encoded, so objects and files are not all held at once.
		memProfile("encode")
		stop := st.start(encodePhase)
		b.Files, err = render.TakeFiles(res)
		stop()
		if err != nil {
			return nil, nil, outcome, err
		}
	}
	// Kept only when the inputs did not change while it was built: the
	// entry must be what those inputs give.
	if cacheable {
		if again, ok := systemKey(dir, envs); ok && again == key {
			sc.store(modeKey(key, mode), b)
		}
	}
	return b, diags, outcome, nil
}

// get decodes an entry; anything that does not decode is a miss.
func (sc *systemCache) get(k cache.Key) *built {
	data, ok := sc.c.Get(k)
	if !ok {
		return nil
	}
	var b built
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&b); err != nil {
		return nil
	}
	return &b
}

func (sc *systemCache) store(k cache.Key, b *built) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(b); err != nil {
		return
	}
	if sc.c.Put(k, buf.Bytes()) == nil {
		sc.put.Store(true)
	}
}
