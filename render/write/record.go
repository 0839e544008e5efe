package write

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io/fs"
	"maps"
	"slices"
)

// Digest is the SHA-256 of a file's content.
type Digest [sha256.Size]byte

// Sum returns the digest of data.
func Sum(data []byte) Digest { return sha256.Sum256(data) }

// A Record lets a write tell that a file on disk still holds content it
// knows from the file's metadata alone, without reading it, as git's
// index does for a work tree: for each file a write left, the file's
// identity on disk (size, modification and change times, inode) and the
// digest of the content it held then. A later write whose file has the
// same digest, and finds the same identity on disk, need not read it.
//
// The change time (ctime) is what makes that safe: any change to a
// file's content sets it to the file system's clock, and no user can set
// it back. The one hole is a change within the same tick of that clock
// as the one recorded (ticks are milliseconds long): so the identity of
// a file is read only after a stamp, the clock read from the output
// directory (fsClock), and an entry is trusted only when the file's
// ctime is before its stamp. A file changed after its identity was read
// then has a ctime at or after the stamp, which differs from the one
// recorded. (Git guards its index the same way, against its own write
// time.) A file changed in the tick of its stamp is not trusted: the
// next write reads it, as it would without a record, and records it
// again. So that the files a write just renamed into place are not all
// such files, Commit waits for the clock to move on (a tick, a few
// milliseconds) before it reads their stamp.
//
// A Record is an optimisation only: writing with one, an old one, one
// of another directory or none changes nothing but how many files are
// read. It is kept outside the output directory (the caller's business:
// kiln keeps it in its cache), since the output is committed to Git and
// identities are local to a machine.
type Record struct {
	files map[string]recorded
}

// recorded is what a Record knows of one file: when the file had
// identity id, read after the file system's clock showed stamp, it held
// the content whose digest this is.
type recorded struct {
	id     fileID
	stamp  int64
	digest Digest
}

// trusted reports whether r proves that a file whose identity is now id
// holds r's content.
func (r recorded) trusted(id fileID) bool {
	return r.id == id && r.id.ctime < r.stamp
}

// fileID is what Lstat says of a regular file that changes when its
// content does: its size, modification and change times (nanoseconds)
// and its inode.
type fileID struct {
	size, mtime, ctime int64
	dev, ino           uint64
}

// identify returns the identity of the file fi describes; false when it
// is not a regular file, or the system cannot say (see idOf).
func identify(fi fs.FileInfo) (fileID, bool) {
	if fi == nil || !fi.Mode().IsRegular() {
		return fileID{}, false
	}
	return idOf(fi)
}

// clock is fsClock; tests replace it.
var clock = fsClock

// recordMagic starts every encoded Record; a change of format changes it.
var recordMagic = []byte("kiln-write-record-1\n")

// MarshalBinary encodes the record, its files in sorted order.
func (r *Record) MarshalBinary() ([]byte, error) {
	out := slices.Clone(recordMagic)
	if r == nil {
		return binary.AppendUvarint(out, 0), nil
	}
	out = binary.AppendUvarint(out, uint64(len(r.files)))
	for _, p := range slices.Sorted(maps.Keys(r.files)) {
		e := r.files[p]
		out = binary.AppendUvarint(out, uint64(len(p)))
		out = append(out, p...)
		out = binary.AppendVarint(out, e.id.size)
		out = binary.AppendVarint(out, e.id.mtime)
		out = binary.AppendVarint(out, e.id.ctime)
		out = binary.AppendUvarint(out, e.id.dev)
		out = binary.AppendUvarint(out, e.id.ino)
		out = binary.AppendVarint(out, e.stamp)
		out = append(out, e.digest[:]...)
	}
	return out, nil
}

// errRecord is the error for bytes that are not an encoded Record.
var errRecord = errors.New("not a kiln write record")

// UnmarshalBinary decodes what MarshalBinary encoded.
func (r *Record) UnmarshalBinary(data []byte) error {
	rest, ok := bytes.CutPrefix(data, recordMagic)
	if !ok {
		return errRecord
	}
	d := decoder{b: rest}
	n := d.uvarint()
	if n > uint64(len(rest)) { // every entry takes more than a byte
		return errRecord
	}
	files := make(map[string]recorded, n)
	for range n {
		l := d.uvarint()
		p := string(d.bytes(l))
		var e recorded
		e.id.size = d.varint()
		e.id.mtime = d.varint()
		e.id.ctime = d.varint()
		e.id.dev = d.uvarint()
		e.id.ino = d.uvarint()
		e.stamp = d.varint()
		copy(e.digest[:], d.bytes(uint64(len(e.digest))))
		if d.bad {
			return errRecord
		}
		files[p] = e
	}
	if d.bad || len(d.b) != 0 {
		return errRecord
	}
	r.files = files
	return nil
}

// decoder reads what MarshalBinary appended; bad says it ran out or read
// a malformed number, after which it reads zeros.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}
