package write

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncsFileSystem: on Linux, syncData makes every file written so far
// durable with one syncfs(2), so the files need no sync each.
const syncsFileSystem = true

// syncData makes the data of every file on the file system holding dir
// durable (syncfs(2)): the temporary files of a write, before they are
// renamed into place.
func syncData(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
