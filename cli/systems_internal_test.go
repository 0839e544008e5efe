package cli

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// parallel calls f once for every index, and a panic in f comes back on
// the caller's goroutine, where execute turns it into exit code 3.
func TestParallel(t *testing.T) {
	var calls [100]atomic.Int32
	parallel(3, len(calls), func(i int) { calls[i].Add(1) })
	for i := range calls {
		if n := calls[i].Load(); n != 1 {
			t.Errorf("f(%d) called %d times", i, n)
		}
	}

	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "boom at 7") || !strings.Contains(fmt.Sprint(r), "build worker") {
			t.Errorf("recovered %v, want the worker's panic", r)
		}
	}()
	parallel(2, 50, func(i int) {
		if i == 7 {
			panic("boom at 7")
		}
	})
	t.Error("parallel returned after a panic")
}
