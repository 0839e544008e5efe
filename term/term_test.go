package term

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Nothing that is not a terminal is one: buffers, pipes, files and the
// null device (a character device, like a terminal).
func TestIsTerminalNot(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for name, out := range map[string]any{"buffer": &bytes.Buffer{}, "pipe": w, "file": f, "null": null, "nil file": (*os.File)(nil)} {
		if IsTerminal(out.(interface{ Write([]byte) (int, error) })) {
			t.Errorf("%s is taken for a terminal", name)
		}
	}
}

// A terminal, when the test has one: /dev/tty is the controlling terminal.
func TestIsTerminalTTY(t *testing.T) {
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no controlling terminal:", err)
	}
	defer tty.Close()
	if !IsTerminal(tty) {
		t.Error("/dev/tty is not taken for a terminal")
	}
}

func TestPaintOff(t *testing.T) {
	var b bytes.Buffer
	p := NewPainter(&b)
	if p.Enabled() || p.Paint(Red, "x") != "x" {
		t.Errorf("colour into a buffer: %q", p.Paint(Red, "x"))
	}
	on := Painter{on: true}
	if got := on.Paint(Green, "ok"); got != "\x1b[32mok\x1b[0m" {
		t.Errorf("Paint = %q", got)
	}
}

// NO_COLOR (any non-empty value) and TERM=dumb turn colour off on a
// terminal; TERM=dumb turns progress off too.
func TestNoColor(t *testing.T) {
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if !colorAllowed() {
		t.Error("no colour on a plain terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if colorAllowed() {
		t.Error("colour despite NO_COLOR")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if colorAllowed() || !dumb() {
		t.Error("colour on a dumb terminal")
	}
}

func TestProgressSilentOffTerminal(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b)
	p.Show("validating %d objects", 3)
	p.Clear()
	if b.Len() != 0 || p.Enabled() {
		t.Errorf("progress into a buffer: %q", b.String())
	}
	on := &Progress{w: &b, on: true}
	on.Show("a %d", 1)
	on.Show("b")
	on.Clear()
	on.Clear()
	if got, want := b.String(), "\r\x1b[Ka 1\r\x1b[Kb\r\x1b[K"; got != want {
		t.Errorf("progress = %q, want %q", got, want)
	}
}
