package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, Floor},
		{100 << 20, Floor},
		{128 << 20, Floor},
		{200 << 20, 528 << 20},
		{1 << 30, 2<<30 + 128<<20},
		{math.MaxUint64, math.MaxInt64},
	} {
		if got := Limit(tc.live); got != tc.want {
			t.Errorf("Limit(%d) = %d, want %d", tc.live, got, tc.want)
		}
	}
}

// Start sets the limit and follows the live heap; stop restores the
// limit that was set before; GOGC or GOMEMLIMIT in the environment turn it
// off.
func TestStart(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	beforeGC := debug.SetGCPercent(100)
	defer debug.SetGCPercent(beforeGC)
	stop := Start()
	if got := debug.SetMemoryLimit(-1); got != Floor {
		t.Errorf("limit after Start = %d, want Floor", got)
	}
	// GOGC's own trigger stays as it was: the limit only caps it.
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after Start = %d, want 100 as before", got)
	}
	// A live heap above the floor raises the limit after a collection.
	big := make([]byte, Floor)
	big[len(big)-1] = 1
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetMemoryLimit(-1) == Floor && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got, want := debug.SetMemoryLimit(-1), int64(len(big))/4*growth+slack; got < want {
		t.Errorf("limit with %d bytes live = %d, want at least %d", len(big), got, want)
	}
	runtime.KeepAlive(big)
	stop()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after stop = %d, want %d as before", got, before)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after stop = %d, want 100 as before", got)
	}

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "200")
			if env == "GOMEMLIMIT" {
				t.Setenv(env, "1GiB")
			}
			stop := Start()
			defer stop()
			if got := debug.SetMemoryLimit(-1); got != before {
				t.Errorf("limit with %s set = %d, want %d as before", env, got, before)
			}
		})
	}
}
