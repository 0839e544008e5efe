// Package sample expands a sweep's search space into trials at compile
// time: grid, seeded random and quasi-random (Sobol) sampling over int,
// double (linear or log scale), categorical and discrete parameters, and
// the rung plan of successive halving / Hyperband.
//
// Everything here is pure Go with no Kubernetes types, so the same trials
// come out on every machine: random draws use math/rand/v2's PCG source
// with a fixed stream, Sobol points come from fixed direction numbers, and
// values are formatted with a fixed precision. A trial is named by a short
// hash of its parameter assignment, not by its index, so a trial keeps its
// name (and a finished run of it can be recognised) while the search space
// stays the same, even if maxTrials grows or other trials change.
package sample
