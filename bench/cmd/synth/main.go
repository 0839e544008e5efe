// Command synth writes a synthetic kiln system of N models (see
// bench.SystemSpec) into a directory: the input of `make bench`; with
// -systems S, a repository of S such systems (bench.WriteFleet).
//
//	go run ./bench/cmd/synth -n 1000 -envs 3 DIR
//	go run ./bench/cmd/synth -systems 50 -n 20 DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kiln-ml/kiln/bench"
)

func main() {
	n := flag.Int("n", 100, "number of models")
	envs := flag.Int("envs", 1, "number of environments")
	systems := flag.Int("systems", 0, "write a repository of this many systems instead of one system")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: synth [-n N] [-envs E] [-systems S] DIR")
		os.Exit(2)
	}
	write := func() error { return bench.WriteSystem(flag.Arg(0), *n, *envs) }
	if *systems > 0 {
		write = func() error { return bench.WriteFleet(flag.Arg(0), *systems, *n, *envs) }
	}
	if err := write(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
