// Package term decides what kiln may do to make a terminal pleasant
// without hurting pipes, files and CI logs: colour only when the writer is
// a terminal and NO_COLOR is not set (https://no-color.org), and a
// progress line, rewritten in place, only on a terminal.
//
// Output that is not a terminal stays byte-for-byte what it would be
// without this package, so scripts, goldens and logs never see an escape
// sequence. term depends on the standard library only.
package term
