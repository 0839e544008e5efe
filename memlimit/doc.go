// Package memlimit keeps kiln's heap near a fixed budget while the data
// it works on is small, and lets it grow with the data when it is not.
//
// Go's collector lets the heap grow to twice its live size (GOGC=100) —
// or, while kiln's compiler evaluates CUE, five times (see
// compiler/gc.go) — before it collects again. On a thousand models the
// live heap peaks near 250 MiB, and peak memory near twice that and more:
// more than the 512 MiB a CI runner may allow. A fixed soft limit
// (debug.SetMemoryLimit) would cap it, but a larger spec, whose live heap
// is near or above the limit, would then be collected over and over,
// spending up to half the CPU in the collector. So Start sets a limit
// that follows the live heap: after every collection, the larger of a
// floor (Floor) and twice the heap that survived it plus some slack (the
// limit counts all of the runtime's memory, not the heap alone). GOGC's
// own trigger stays on: the limit only caps how far the heap may grow,
// while the compiler lets it grow five times its live size and while a
// small run's heap is below the floor.
//
// A user's own settings win: with GOGC or GOMEMLIMIT in the environment,
// Start does nothing.
//
// memlimit depends on the standard library only.
package memlimit
