// Package bench holds benchmarks of kiln's whole path, spec to objects,
// over the bundled examples: `go test -bench . ./bench`.
package bench
