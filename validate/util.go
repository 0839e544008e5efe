package validate

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

func toStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// forEachParallel calls f(0..n-1) on up to GOMAXPROCS goroutines. A panic
// in f is re-raised on the caller's goroutine once every worker has
// stopped, so the caller (the CLI) can recover it like any other.
func forEachParallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var (
		wg       sync.WaitGroup
		panicked sync.Once
		failure  any
		stop     = make(chan struct{})
	)
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					panicked.Do(func() {
						failure = fmt.Sprintf("%v\n\n[recovered on a validation worker]\n%s", r, debug.Stack())
						close(stop)
					})
				}
			}()
			for i := range next {
				f(i)
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-stop:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if failure != nil {
		panic(failure)
	}
}
