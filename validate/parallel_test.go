package validate

import (
	"runtime"
	"strings"
	"testing"
)

// TestForEachParallelHandsPanicsToTheCaller: a panic on a worker must
// reach the caller's goroutine, where the CLI turns it into a bug report;
// a panic left on a worker would kill the process instead.
func TestForEachParallelHandsPanicsToTheCaller(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic reached the caller")
		}
		if msg, _ := r.(string); !strings.Contains(msg, "boom at 7") {
			t.Errorf("panic value %v lacks the worker's message", r)
		}
	}()
	forEachParallel(20, func(i int) {
		if i == 7 {
			panic("boom at 7")
		}
	})
}
