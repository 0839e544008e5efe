package write

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// idOf returns the identity of the file fi describes, from what Lstat
// or Stat said of it.
func idOf(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{
		size:  st.Size,
		mtime: st.Mtim.Nano(),
		ctime: st.Ctim.Nano(),
		dev:   uint64(st.Dev),
		ino:   st.Ino,
	}, true
}

// fsClock reads the file system's clock in dir: it sets dir's access
// time to the clock (which sets its change time too) and reads the
// change time back. dir's modification time, and so anything a user or
// a tool sees of the output, is left alone. False when dir cannot be
// touched (it does not exist, or kiln may not write it).
func fsClock(dir string) (int64, bool) {
	ts := []unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_OMIT}}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dir, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return 0, false
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return 0, false
	}
	return st.Ctim.Nano(), true
}
