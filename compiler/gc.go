package compiler

import (
	"os"
	"runtime/debug"
	"sync"
)

// Evaluating a spec builds a graph of CUE values that stays live until it
// is exported: while the graph grows, each garbage collection marks all of
// it again and frees almost nothing (a quarter of the compile time of a
// 1000-model spec went to the collector). So the compiler lets the heap
// grow four times its live size between collections, instead of once,
// from the evaluation to the export. The heap is nearly all live then, so
// peak memory moves little (measured on that spec: 2.62 s → 2.05 s of
// compile CPU, compile peak RSS 408 → 463 MiB, below the peak rendering
// reaches afterwards). A GOGC the user set is left alone.
//
// Split evaluation (split.go) holds far less at once: the spec's data, and
// the chunks being checked. There, 400 would let the heap grow to several
// times that (410 MiB of RSS for the 1000-model spec) while 200 holds it
// at 330 MiB for 3% more CPU than 400, and 100 costs 12%.

// evalGCPercent is the GOGC the compiler evaluates and exports with.
const evalGCPercent = 400

// splitGCPercent is the GOGC of split evaluation.
const splitGCPercent = 200

var lazyGC struct {
	sync.Mutex
	// active counts the compilations evaluating now; the setting is
	// changed by the first and restored by the last, so overlapping
	// compilations never restore each other's value.
	active int
	saved  int
}

// relaxGC raises the garbage collector's target to percent for an
// evaluation and returns the function that restores it. While several
// compilations overlap, the first one's percent holds.
func relaxGC(percent int) (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	lazyGC.Lock()
	defer lazyGC.Unlock()
	if lazyGC.active == 0 {
		lazyGC.saved = debug.SetGCPercent(percent)
		if lazyGC.saved < 0 || lazyGC.saved > percent {
			// The program switched the collector off, or relaxed it
			// further already.
			debug.SetGCPercent(lazyGC.saved)
		}
	}
	lazyGC.active++
	var once sync.Once
	return func() {
		once.Do(func() {
			lazyGC.Lock()
			defer lazyGC.Unlock()
			lazyGC.active--
			if lazyGC.active == 0 {
				debug.SetGCPercent(lazyGC.saved)
			}
		})
	}
}
