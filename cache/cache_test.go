package cache

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func key(s string) Key {
	h := NewHash("test")
	h.String(s)
	return h.Sum()
}

func TestPutGet(t *testing.T) {
	c := Open(t.TempDir(), "t")
	if _, ok := c.Get(key("a")); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.Put(key("a"), []byte("value a")); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(key("a"))
	if !ok || string(got) != "value a" {
		t.Fatalf("Get = %q, %v; want the value put", got, ok)
	}
	if _, ok := c.Get(key("b")); ok {
		t.Error("hit for a key never put")
	}
	if err := c.Put(key("a"), []byte("value a, again")); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(key("a")); string(got) != "value a, again" {
		t.Errorf("after a second Put, Get = %q", got)
	}
}

// Every damaged entry is a miss, and goes.
func TestCorruptIsMiss(t *testing.T) {
	val := []byte(strings.Repeat("rendered bytes ", 100))
	for name, damage := range map[string]func([]byte) []byte{
		"truncated":   func(b []byte) []byte { return b[:len(b)-7] },
		"header only": func(b []byte) []byte { return b[:len(magic)+3] },
		"empty":       func(b []byte) []byte { return nil },
		"flipped":     func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"other magic": func(b []byte) []byte { return append([]byte("kiln-cache-0\n"), b[len(magic):]...) },
		"appended":    func(b []byte) []byte { return append(b, '\n') },
	} {
		t.Run(name, func(t *testing.T) {
			c := Open(t.TempDir(), "t")
			k := key(name)
			if err := c.Put(k, val); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(c.path(k))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c.path(k), damage(data), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, ok := c.Get(k); ok {
				t.Fatalf("damaged entry read as %.20q…", got)
			}
			if _, err := os.Stat(c.path(k)); !os.IsNotExist(err) {
				t.Errorf("damaged entry left in place: %v", err)
			}
		})
	}
}

// A nil cache (off, or no directory) misses and stores nothing.
func TestOff(t *testing.T) {
	t.Setenv(EnvVar, Off)
	if d := Dir(); d != "" {
		t.Errorf("Dir with %s=%s: %q", EnvVar, Off, d)
	}
	c := Open(Dir(), "t")
	if c != nil {
		t.Fatal("Open of no directory made a cache")
	}
	if err := c.Put(key("a"), []byte("x")); err != nil {
		t.Error(err)
	}
	if _, ok := c.Get(key("a")); ok {
		t.Error("nil cache hit")
	}
	t.Setenv(EnvVar, "/some/dir")
	if d := Dir(); d != "/some/dir" {
		t.Errorf("Dir with %s=/some/dir: %q", EnvVar, d)
	}
	t.Setenv(EnvVar, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	if want := filepath.Join("/xdg", "kiln"); runtime.GOOS == "linux" && Dir() != want {
		t.Errorf("Dir with XDG_CACHE_HOME=/xdg: %q, want %q", Dir(), want)
	}
	// A cache directory that cannot be made: no cache, no error.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if c := Open(file, "t"); c != nil {
		t.Error("Open under a regular file made a cache")
	}
}

// Trim keeps the most recently used entries within the limit.
func TestTrim(t *testing.T) {
	c := Open(t.TempDir(), "t")
	val := bytes.Repeat([]byte("x"), 1000)
	size := int64(len(seal(val)))
	old := time.Now().Add(-48 * time.Hour)
	for i := range 10 {
		k := key(fmt.Sprint(i))
		if err := c.Put(k, val); err != nil {
			t.Fatal(err)
		}
		// Entry i was last used i hours after the oldest.
		at := old.Add(time.Duration(i) * time.Hour)
		os.Chtimes(c.path(k), at, at)
	}
	// A hit makes entry 0 the most recent.
	if _, ok := c.Get(key("0")); !ok {
		t.Fatal("miss")
	}
	c.Limit = 5 * size
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	var kept []string
	for i := range 10 {
		if _, err := os.Stat(c.path(key(fmt.Sprint(i)))); err == nil {
			kept = append(kept, fmt.Sprint(i))
		}
	}
	// Down to 3/4 of 5 entries: 3 kept, the most recent ones.
	if got := strings.Join(kept, " "); got != "0 8 9" {
		t.Errorf("kept %q, want %q", got, "0 8 9")
	}
	c.Limit = 100 * size
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(key("9")); !ok {
		t.Error("Trim under the limit removed an entry")
	}
}

// Concurrent writers and readers of one key see the whole value or a
// miss, never a part.
func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	k := key("shared")
	vals := [][]byte{bytes.Repeat([]byte("a"), 1<<16), bytes.Repeat([]byte("b"), 1<<17)}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := Open(dir, "t") // as another process would
			for j := range 20 {
				if err := c.Put(k, vals[(i+j)%2]); err != nil {
					t.Error(err)
					return
				}
				if got, ok := c.Get(k); ok && !bytes.Equal(got, vals[0]) && !bytes.Equal(got, vals[1]) {
					t.Errorf("read %d bytes that were never put", len(got))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Fields are framed: moving bytes from one field to the next changes the key.
func TestHashFraming(t *testing.T) {
	a, b := NewHash("k"), NewHash("k")
	a.String("ab")
	a.String("c")
	b.String("a")
	b.String("bc")
	if a.Sum() == b.Sum() {
		t.Error("ab,c and a,bc hash alike")
	}
	if NewHash("k").Sum() == NewHash("l").Sum() {
		t.Error("kinds hash alike")
	}
}

// The test binary has an ID, the same every time it is asked.
func TestBuildID(t *testing.T) {
	id := BuildID()
	if id == "" {
		t.Fatal("no build ID")
	}
	if runtime.GOOS == "linux" && !strings.Contains(id, "go-build-id ") {
		t.Errorf("on Linux, expected the ELF build ID note, got %q", id)
	}
	if readBuildID() != id {
		t.Error("build ID changed")
	}
}

// A value written a piece at a time (Create) is stored as Put stores it:
// Get and Open read it back, and an aborted or uncommitted one is no
// entry.
func TestCreateOpen(t *testing.T) {
	c := Open(t.TempDir(), "t")
	val := strings.Repeat("rendered bytes ", 10000)
	w, err := c.Create(key("a"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(val); i += 1000 {
		if _, err := w.Write([]byte(val[i:min(i+1000, len(val))])); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := c.Get(key("a")); ok {
		t.Fatal("an entry being written is a hit")
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get(key("a")); !ok || string(got) != val {
		t.Fatalf("Get after Create = %.20q…, %v; want the value written", got, ok)
	}
	r, ok := c.Open(key("a"))
	if !ok {
		t.Fatal("Open misses an entry Get hits")
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(got) != val {
		t.Fatalf("Open read %.20q…, %v; want the value written", got, err)
	}
	if err := c.Put(key("b"), []byte(val)); err != nil {
		t.Fatal(err)
	}
	put, _ := os.ReadFile(c.path(key("b")))
	created, _ := os.ReadFile(c.path(key("a")))
	if !bytes.Equal(put, created) {
		t.Error("Create and Put store the same value differently")
	}

	w, err = c.Create(key("c"))
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("partial"))
	w.Abort()
	if _, ok := c.Get(key("c")); ok {
		t.Error("an aborted entry is a hit")
	}
	if entries, _ := os.ReadDir(filepath.Dir(c.path(key("c")))); len(entries) != 0 {
		t.Errorf("an aborted entry left %d files", len(entries))
	}

	var nilCache *Cache
	w, err = nilCache.Create(key("a"))
	if w != nil || err != nil {
		t.Fatalf("nil cache: Create = %v, %v", w, err)
	}
	w.Write([]byte("x"))
	if err := w.Commit(); err != nil {
		t.Error(err)
	}
	if _, ok := nilCache.Open(key("a")); ok {
		t.Error("nil cache: Open hits")
	}
}
