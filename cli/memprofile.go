package cli

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// memProfileEnv names a file prefix: when set, render writes an in-use
// heap profile to PREFIX-<phase>.prof as each of its later phases begins
// (render, encode, write), for `go tool pprof -sample_index=inuse_space`.
// The peak of a large render falls in one of them, and a profile taken at
// the end of the run would show none of it. It is for kiln's developers
// (like KILN_CPUPROFILE, undocumented in --help); each profile costs a
// full collection.
const memProfileEnv = "KILN_MEMPROFILE"

// memProfile writes the heap profile of phase when KILN_MEMPROFILE asks
// for one. Several systems built at once write over each other's: profile
// one system.
func memProfile(phase string) {
	prefix := os.Getenv(memProfileEnv)
	if prefix == "" {
		return
	}
	runtime.GC() // the profile shows the heap as of the last collection
	f, err := os.Create(prefix + "-" + phase + ".prof")
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kiln: %s: %v\n", memProfileEnv, err)
	}
}
