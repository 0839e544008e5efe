package par

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// Each calls f once for every index, on one goroutine or several.
func TestEachCallsEveryIndexOnce(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 200} {
		var calls [100]atomic.Int32
		Each(workers, len(calls), func(i int) { calls[i].Add(1) })
		for i := range calls {
			if n := calls[i].Load(); n != 1 {
				t.Errorf("workers %d: f(%d) called %d times", workers, i, n)
			}
		}
	}
}

// A panic in f comes back on the caller's goroutine with the worker's
// stack.
func TestEachRaisesAWorkersPanic(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "boom at 7") || !strings.Contains(fmt.Sprint(r), "par.TestEachRaisesAWorkersPanic") {
			t.Errorf("recovered %v, want the worker's panic with its stack", r)
		}
	}()
	Each(2, 10000, func(i int) {
		if i == 7 {
			panic("boom at 7")
		}
	})
	t.Error("Each returned after a panic")
}
