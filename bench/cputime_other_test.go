//go:build !unix

package bench

import "time"

// cpuTime is not measured here: BenchmarkRender reports 0.
func cpuTime() time.Duration { return 0 }
