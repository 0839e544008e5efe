package memlimit

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Floor is the limit while the live heap is small: with the runtime's
// own memory and kiln's binary, a process that keeps to it stays within
// 512 MiB resident.
const Floor = 384 << 20

// growth is how far above the live heap the limit goes, in quarters: 7
// is one and three quarters times. Measured on a thousand models (one
// environment, 2 cores): 1.5x live gave 430 MiB peak and 2.9 CPU-s, 1.75x
// 500 MiB and 2.2 CPU-s, 2x 522 MiB (above the 512 MiB budget) and 2.1.
const growth = 7

// liveMetric is the heap that survived the last collection.
const liveMetric = "/gc/heap/live:bytes"

var state struct {
	sync.Mutex
	on      bool
	saved   int64 // the limit before Start
	savedGC int   // GOGC before Start
}

// Start sets the limit and keeps it following the live heap until stop is
// called; it does nothing (and stop nothing) when the environment sets
// GOGC or GOMEMLIMIT, or when a limit is already on.
func Start() (stop func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	state.Lock()
	defer state.Unlock()
	if state.on {
		return func() {}
	}
	state.on = true
	state.saved = debug.SetMemoryLimit(Floor)
	state.savedGC = debug.SetGCPercent(-1)
	arm()
	var once sync.Once
	return func() {
		once.Do(func() {
			state.Lock()
			defer state.Unlock()
			state.on = false
			debug.SetGCPercent(state.savedGC)
			debug.SetMemoryLimit(state.saved)
		})
	}
}

// sentinel is garbage as soon as it is made: its finalizer runs after the
// next collection, and makes the next sentinel. It holds a pointer so
// that the allocator does not pack it with others (whose finalizers would
// wait for all of them).
type sentinel struct{ p *int }

func arm() {
	runtime.SetFinalizer(&sentinel{new(int)}, func(*sentinel) {
		if follow() {
			arm()
		}
	})
}

// follow sets the limit from the live heap, reporting whether the limit
// is still on.
func follow() bool {
	state.Lock()
	defer state.Unlock()
	if !state.on {
		return false
	}
	debug.SetMemoryLimit(Limit(live()))
	return true
}

// Limit is the limit for a live heap of the given bytes.
func Limit(live uint64) int64 {
	l := live / 4 * growth
	if live > math.MaxInt64/growth || l > math.MaxInt64 {
		return math.MaxInt64
	}
	return max(Floor, int64(l))
}

func live() uint64 {
	s := []metrics.Sample{{Name: liveMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
