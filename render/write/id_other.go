//go:build !linux

package write

import "io/fs"

// idOf says nothing elsewhere: a Record is kept on Linux only, where
// kiln knows how Lstat reports a file's change time, and elsewhere every
// file is read, as without a record.
func idOf(fs.FileInfo) (fileID, bool) { return fileID{}, false }

func fsClock(string) (int64, bool) { return 0, false }
