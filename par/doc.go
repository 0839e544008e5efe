// Package par runs independent calls on a bounded number of goroutines.
//
// kiln builds systems and validates objects in parallel. A panic on a
// goroutine of its own would end the process without kiln's report of
// its own bug (exit code 3, with the stack), so Each raises a worker's
// panic again on the caller's goroutine, where the CLI recovers it like
// any other.
//
// par depends on the standard library only.
package par
