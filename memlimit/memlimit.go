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

// The limit above the floor is twice the live heap plus slack. It bounds
// total memory, not the heap: stacks, the collector's own metadata and
// the pages of a fast-growing heap count too, and a limit too near the
// live heap has the collector run over and over (measured: 1.75x live with
// no slack rendered 3,000 models in 19 CPU-s instead of 8.6, and 1.5x was
// worse). With slack, 3,000 models take 7.9 CPU-s; a thousand models 2.3
// CPU-s and 555 MiB peak (1.75x with no slack had 500 MiB).
const (
	growth = 8         // in quarters: twice the live heap
	slack  = 128 << 20 // bytes
)

// liveMetric is the heap that survived the last collection.
const liveMetric = "/gc/heap/live:bytes"

var state struct {
	sync.Mutex
	on    bool
	saved int64 // the limit before Start
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
	arm()
	var once sync.Once
	return func() {
		once.Do(func() {
			state.Lock()
			defer state.Unlock()
			state.on = false
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
	if live/4 > (math.MaxInt64-slack)/growth {
		return math.MaxInt64
	}
	return max(Floor, int64(live/4*growth+slack))
}

func live() uint64 {
	s := []metrics.Sample{{Name: liveMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
