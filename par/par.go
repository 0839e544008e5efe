package par

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Each calls f(0) … f(n-1) on up to workers goroutines (on the caller's
// alone when workers is 1 or less). A panic in f stops the feeding of
// further calls and is raised again on the caller's goroutine once every
// worker is done, carrying the worker's stack.
func Each(workers, n int, f func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var (
		wg       sync.WaitGroup
		panicked sync.Once
		failure  any
		stop     = make(chan struct{})
		next     = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					panicked.Do(func() {
						failure = fmt.Sprintf("%v\n\n[recovered on a worker goroutine]\n%s", r, debug.Stack())
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
	for i := range n {
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
