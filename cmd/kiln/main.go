// Command kiln compiles ML systems described in CUE into Kubernetes
// manifests. See the README and `kiln --help`.
//
// KILN_CPUPROFILE=FILE writes a CPU profile of the run to FILE, for `go
// tool pprof` (undocumented in --help: it is for kiln's developers), and
// KILN_MEMPROFILE=PREFIX in-use heap profiles of render as its phases
// begin, to PREFIX-render.prof, PREFIX-encode.prof and PREFIX-write.prof.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/kiln-ml/kiln/cli"
)

func main() { os.Exit(run()) }

func run() int {
	if p := os.Getenv("KILN_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kiln: KILN_CPUPROFILE:", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "kiln: KILN_CPUPROFILE:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	return cli.Main()
}
