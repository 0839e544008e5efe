package cache

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// EnvVar names the cache directory; Off as its value disables the cache.
const (
	EnvVar = "KILN_CACHE"
	Off    = "off"
)

// DefaultLimit bounds the entries of a cache: the files of a thousand
// synthetic models (7,400 objects) take about 57 MiB, so it holds more
// than a dozen full renders of such a repository.
const DefaultLimit = 1 << 30

// magic starts every entry; a change of format changes it, so entries of
// another format are misses.
var magic = []byte("kiln-cache-1\n")

// touchAfter is how old an entry's time must be before a hit refreshes it:
// often enough for least-recently-used order, rarely enough that hits do
// not write.
const touchAfter = time.Hour

// Key names an entry: a hash of everything that decides its value.
type Key [sha256.Size]byte

func (k Key) String() string { return hex.EncodeToString(k[:]) }

// Cache is a directory of entries.
type Cache struct {
	dir string
	// Limit is the most bytes the entries may take before Trim removes
	// the oldest.
	Limit int64
}

// Dir returns the cache directory the environment asks for: $KILN_CACHE,
// or kiln/ under the user's cache directory; "" when the cache is off or
// there is no user cache directory.
func Dir() string {
	if d := os.Getenv(EnvVar); d != "" {
		if d == Off {
			return ""
		}
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "kiln")
}

// Open returns the cache in dir/sub, making it if need be, or nil when dir
// is "" or cannot be made: a run without a cache.
func Open(dir, sub string) *Cache {
	if dir == "" {
		return nil
	}
	d := filepath.Join(dir, sub)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil
	}
	return &Cache{dir: d, Limit: DefaultLimit}
}

func (c *Cache) path(k Key) string {
	s := k.String()
	return filepath.Join(c.dir, s[:2], s)
}

// Get returns the value stored under k. A missing, truncated or corrupt
// entry is a miss; a corrupt one is removed. A nil cache always misses.
func (c *Cache) Get(k Key) ([]byte, bool) {
	r, ok := c.Open(k)
	if !ok {
		return nil, false
	}
	defer r.Close()
	val, err := io.ReadAll(r)
	if err != nil {
		return nil, false
	}
	return val, true
}

// Open returns a reader of the value stored under k, for a value too
// large to hold at once: the entry is checked first, reading it through
// once without keeping it, and then read again as the caller reads (from
// the page cache, as a rule). A missing, truncated or corrupt entry is a
// miss, as for Get. The caller closes the reader.
func (c *Cache) Open(k Key) (io.ReadCloser, bool) {
	if c == nil {
		return nil, false
	}
	p := c.path(k)
	f, err := os.Open(p)
	if err != nil {
		return nil, false
	}
	if !check(f) {
		f.Close()
		os.Remove(p)
		return nil, false
	}
	if _, err := f.Seek(int64(len(magic)+sha256.Size), io.SeekStart); err != nil {
		f.Close()
		return nil, false
	}
	now := time.Now()
	if fi, err := f.Stat(); err == nil && now.Sub(fi.ModTime()) > touchAfter {
		os.Chtimes(p, now, now)
	}
	return struct {
		io.Reader
		io.Closer
	}{bufio.NewReaderSize(f, 1<<16), f}, true
}

// check reports whether the entry f holds has its magic and checksum.
func check(f *os.File) bool {
	head := make([]byte, len(magic)+sha256.Size)
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head[:len(magic)], magic) {
		return false
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return bytes.Equal(h.Sum(nil), head[len(magic):])
}

// Writer stores a value written a piece at a time, for a value too large
// to hold at once (Create).
type Writer struct {
	c   *Cache
	p   string   // the entry's path
	f   *os.File // the temporary file being written
	buf *bufio.Writer
	h   hash.Hash
	err error
}

// Create starts the entry for k; what is written to the Writer is the
// value, stored once Commit succeeds. On a nil cache it returns nil, whose
// methods do nothing.
func (c *Cache) Create(k Key) (*Writer, error) {
	if c == nil {
		return nil, nil
	}
	p := c.path(k)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return nil, err
	}
	w := &Writer{c: c, p: p, f: f, buf: bufio.NewWriterSize(f, 1<<16), h: sha256.New()}
	// The checksum's place, filled in by Commit.
	w.buf.Write(magic)
	w.buf.Write(make([]byte, sha256.Size))
	return w, nil
}

// Write adds p to the value.
func (w *Writer) Write(p []byte) (int, error) {
	if w == nil {
		return len(p), nil
	}
	if w.err != nil {
		return 0, w.err
	}
	w.h.Write(p)
	n, err := w.buf.Write(p)
	w.err = err
	return n, err
}

// Commit stores the value written. It fails only for reasons the caller
// may ignore, as Put.
func (w *Writer) Commit() error {
	if w == nil {
		return nil
	}
	err := w.err
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		_, err = w.f.WriteAt(w.h.Sum(nil), int64(len(magic)))
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.p)
	}
	if err != nil {
		os.Remove(w.f.Name())
	}
	return err
}

// Abort drops the value written.
func (w *Writer) Abort() {
	if w == nil {
		return
	}
	w.f.Close()
	os.Remove(w.f.Name())
}

// Put stores val under k. It fails only for reasons the caller may ignore:
// the cache is an optimisation.
func (c *Cache) Put(k Key, val []byte) error {
	if c == nil {
		return nil
	}
	p := c.path(k)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(seal(val))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// seal prefixes val with the magic and val's checksum.
func seal(val []byte) []byte {
	sum := sha256.Sum256(val)
	out := make([]byte, 0, len(magic)+len(sum)+len(val))
	out = append(out, magic...)
	out = append(out, sum[:]...)
	return append(out, val...)
}

// Trim removes the least recently used entries while the entries together
// take more than c.Limit bytes, down to three quarters of it (so the next
// few runs need not trim again), and temporary files a killed run left
// more than an hour ago.
func (c *Cache) Trim() error {
	if c == nil {
		return nil
	}
	type entry struct {
		path string
		size int64
		mod  time.Time
	}
	var entries []entry
	var total int64
	now := time.Now()
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed by a concurrent trim
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			if now.Sub(fi.ModTime()) > time.Hour {
				os.Remove(p)
			}
			return nil
		}
		entries = append(entries, entry{p, fi.Size(), fi.ModTime()})
		total += fi.Size()
		return nil
	})
	if err != nil || total <= c.Limit {
		return err
	}
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(a.mod.Compare(b.mod), strings.Compare(a.path, b.path))
	})
	for _, e := range entries {
		if total <= c.Limit/4*3 {
			break
		}
		if err := os.Remove(e.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= e.size
		}
	}
	return nil
}

// Hash builds a key from fields. Each field is written with its length,
// so no two lists of fields hash alike ("ab","c" differs from "a","bc").
type Hash struct{ h hash.Hash }

// NewHash starts a key; kind names what the entries hold (and their
// format), so keys of different kinds never meet.
func NewHash(kind string) *Hash {
	h := &Hash{sha256.New()}
	h.String(kind)
	return h
}

// String adds a field.
func (h *Hash) String(s string) { h.Bytes([]byte(s)) }

// Bytes adds a field.
func (h *Hash) Bytes(b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.h.Write(n[:])
	h.h.Write(b)
}

// Sum returns the key.
func (h *Hash) Sum() Key {
	var k Key
	h.h.Sum(k[:0])
	return k
}
