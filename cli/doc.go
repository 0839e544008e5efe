// Package cli is kiln's command line: thin cobra commands that parse flags,
// call the compiler, renderers and writer, and print. Each command writes its
// product to stdout and everything else to stderr, and maps outcomes to the
// documented exit codes. Nothing here holds package-level state, so tests
// run commands in-process.
package cli
