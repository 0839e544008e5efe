// Package bench holds kiln's speed and memory benchmarks (`make bench`).
//
// Absolute times depend on the machine, so every benchmark also measures a
// peer doing comparable work in the same run — `cue export` of the same CUE,
// through the same cuelang.org/go library the cue command uses — and reports
// kiln's cost as a ratio to it (the x-cue-export metrics). A ratio that grows
// between commits is a regression wherever it was measured.
//
// `make bench` then compares kiln with its peers on synthetic systems of N
// models (SystemSpec): `kiln render` against `cue export` of an equivalent
// CUE package (CUEPackage) and `helm template` of an equivalent chart
// (HelmChart), run as commands by bench/cmd/compare, which prints the
// medians and the ratios (those renders run with KILN_CACHE=off). With
// -fleet it also measures the render cache on a repository of systems
// (WriteFleet): `kiln render ./...` into an empty cache, after one system
// changed, and unchanged. bench/cmd/synth writes a synthetic system, or
// with -systems a repository of them, for profiling (`kiln render
// --stats`).
package bench
