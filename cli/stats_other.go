//go:build !unix

package cli

// peakRSS is 0 (unknown) where getrusage does not exist.
func peakRSS() int64 { return 0 }
