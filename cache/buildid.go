package cache

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"sync"
)

// BuildID names the running kiln binary: two binaries that may render
// differently have different IDs. On ELF systems it is the Go build ID
// the linker writes into the .note.go.buildid section, which the go
// command derives from every input of the link and the bytes of the
// result (reading it costs a few system calls); elsewhere, or when a
// build erased it (-ldflags=-buildid=), a SHA-256 of the executable
// (about 0.4 s for kiln's 120 MB on a 2-core machine, once per run). ""
// when neither can be read: no cache then.
func BuildID() string {
	buildIDOnce.Do(func() { buildID = readBuildID() })
	return buildID
}

var (
	buildIDOnce sync.Once
	buildID     string
)

func readBuildID() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	prefix := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + " "
	if id := elfBuildID(exe); id != "" {
		return prefix + "go-build-id " + id
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return prefix + "sha256 " + hex.EncodeToString(h.Sum(nil))
}

// elfBuildID reads the Go build ID note of an ELF executable: a note
// named "Go\x00\x00" of type 4 whose description is the ID.
func elfBuildID(exe string) string {
	f, err := elf.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := f.Section(".note.go.buildid")
	if s == nil {
		return ""
	}
	data, err := s.Data()
	if err != nil || len(data) < 16 {
		return ""
	}
	order := f.ByteOrder
	nameSize, descSize, typ := order.Uint32(data), order.Uint32(data[4:]), order.Uint32(data[8:])
	name := data[12:]
	if typ != 4 || nameSize != 4 || len(name) < 4 || !bytes.Equal(name[:4], []byte("Go\x00\x00")) {
		return ""
	}
	desc := name[4:]
	if uint64(descSize) > uint64(len(desc)) {
		return ""
	}
	id := desc[:descSize]
	// An ID of a single part, or none, is not the go command's.
	if len(id) == 0 || !bytes.Contains(id, []byte("/")) {
		return ""
	}
	return string(id)
}
