// Package bench holds kiln's speed and memory benchmarks (`make bench`).
//
// Absolute times depend on the machine, so every benchmark also measures a
// peer doing comparable work in the same run — `cue export` of the same CUE,
// through the same cuelang.org/go library the cue command uses — and reports
// kiln's cost as a ratio to it (the x-cue-export metrics). A ratio that grows
// between commits is a regression wherever it was measured.
package bench
