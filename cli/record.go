package cli

import (
	"path/filepath"

	"github.com/kiln-ml/kiln/cache"
	"github.com/kiln-ml/kiln/render/write"
)

// The write record of an output directory (write.Record) says which
// contents the files kiln left there held, and how to tell they still do
// from an Lstat: with it, a render of an unchanged system reads neither
// its files from the render cache (only the entry's head, which lists
// their digests) nor the files on disk. It is kept in the cache
// directory, under outputs/, by the output directory's absolute path:
// not in the output, which is committed to Git, while a file's identity
// on disk belongs to one machine. Like the render cache it is an
// optimisation only: with KILN_CACHE=off, or with the record lost or
// out of date, every file is read, and the output is the same.

// recordKind names the records of this file's keys.
const recordKind = "kiln output record 1"

// recordLimit bounds the records kept: one of a thousand models takes
// about 700 KiB.
const recordLimit = 64 << 20

// outputRecords returns where the records are kept, and the key of out's;
// false when the cache is off or out has no absolute path.
func outputRecords(out string) (*cache.Cache, cache.Key, bool) {
	c := cache.Open(cache.Dir(), "outputs")
	abs, err := filepath.Abs(out)
	if c == nil || err != nil {
		return nil, cache.Key{}, false
	}
	c.Limit = recordLimit
	h := cache.NewHash(recordKind)
	h.String(abs)
	return c, h.Sum(), true
}

// useOutputRecord has stage use the record of its output directory out
// (none yet when there is none, or it does not decode), and keep one;
// nothing when the cache is off.
func useOutputRecord(stage *write.Stage, out string) {
	c, k, ok := outputRecords(out)
	if !ok {
		return
	}
	var r *write.Record
	if data, ok := c.Get(k); ok {
		r = new(write.Record)
		if r.UnmarshalBinary(data) != nil {
			r = nil
		}
	}
	stage.UseRecord(r)
}

// saveOutputRecord keeps r, the record of what a render left in out (nil
// when it kept none). Failing changes nothing but the next render's
// time, so failures are ignored.
func saveOutputRecord(out string, r *write.Record) {
	if r == nil {
		return
	}
	c, k, ok := outputRecords(out)
	if !ok {
		return
	}
	data, err := r.MarshalBinary()
	if err == nil && c.Put(k, data) == nil {
		c.Trim()
	}
}
