package validate

import (
	"runtime"

	"github.com/kiln-ml/kiln/par"
)

func toStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// forEachParallel calls f(0..n-1) on up to GOMAXPROCS goroutines (see
// par.Each: a panic in f is raised again on the caller's goroutine).
func forEachParallel(n int, f func(i int)) {
	par.Each(runtime.GOMAXPROCS(0), n, f)
}
