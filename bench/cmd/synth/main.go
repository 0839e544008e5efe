// Command synth writes a synthetic kiln system of N models (see
// bench.SystemSpec) into a directory: the input of `make bench`.
//
//	go run ./bench/cmd/synth -n 1000 -envs 3 DIR
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
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: synth [-n N] [-envs E] DIR")
		os.Exit(2)
	}
	if err := bench.WriteSystem(flag.Arg(0), *n, *envs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
