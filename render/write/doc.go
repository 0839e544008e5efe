// Package write puts a rendered tree of files on disk atomically, file by
// file, and keeps an index of what kiln generated so that a later write can
// delete stale files without ever touching a file a user put there.
//
// Users commit kiln's output directory to Git, so a write is safe and
// deterministic:
//
//   - Every path is checked, and the disk inspected, before anything is
//     written. A bad path, a file kiln did not generate where a generated one
//     should go, a regular file where a directory is needed or a symlink on
//     the way fails the whole write with nothing changed.
//   - Every new or changed file is first written to a hidden temporary file
//     in its own directory and made 0644; once all of them are staged their
//     data is made durable (one syncfs of the file system on Linux, a sync
//     per file elsewhere) and they are renamed over their targets, so a
//     reader, or the system after a crash, sees either the old or the new
//     content of a file, never a mix or a truncated file, and a write
//     stopped (Options.Stop) or failing while it stages leaves the
//     directory exactly as it was. Directories are made 0755. Files whose
//     bytes did not change are not rewritten and keep their modification
//     time.
//   - Generated files the new tree lacks (and that are in Options.Scope) are
//     deleted after the new files are in place, and directories this leaves
//     empty are removed, up to but not including the output directory.
//   - The index (IndexFile) is written last, also atomically, and only when
//     its content changes.
//
// The write as a whole is not atomic: if a rename fails part way, the files
// already renamed into place stay (each one complete), while temporary
// files, and directories made for files that never arrived, are removed.
// Nothing is deleted before every file is written. So that running the write
// again converges, the index always lists at least every file kiln may have
// generated: before it creates files the old index does not list, it writes
// an index listing the old entries and the new paths together, and only the
// final index, written once everything else is done, drops stale entries. A
// re-run therefore finds the files a failed run created already listed as
// generated, rewrites or deletes them as needed, and ends with the same
// tree.
//
// A renderer need not hold every file to write them: a Stage takes the
// files one at a time as they are encoded (Put, from any goroutine),
// writes each new or changed one at once to a hidden staging directory
// below the output directory, and keeps only whether it differs from the
// file on disk; Commit then plans and carries out the write as Tree does,
// with the same checks and guarantees, moving the staged files beside
// their targets before the renames. Discard (the spec turned out to have
// errors, a signal came) removes the staging directory, leaving the
// output directory as it was. Tree is a Stage that keeps the bytes.
//
// Telling a file on disk holds the bytes put means reading it, for every
// file of every render; with a Record of an earlier write (UseRecord), a
// file whose identity on disk (size, times, inode) is the one recorded
// with the same content's digest is known to hold it from one Lstat, as
// git's index knows a work tree (see Record for why the change time makes
// that safe). A caller holding only a digest can then put a file without
// its bytes (Check, PutKnown). Commit makes the next record (Record).
//
// Nothing depends on map iteration order or scheduling: paths are handled in
// sorted order and every list in a Result is sorted.
//
// write depends on the standard library and, for syncfs,
// golang.org/x/sys/unix.
package write
