package term

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// IsTerminal reports whether w is an interactive terminal: an *os.File on
// a character device other than the null device. Buffers, pipes and
// regular files are not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// dumb reports whether the terminal asks for plain text (TERM=dumb, as
// editors' shells set it).
func dumb() bool { return os.Getenv("TERM") == "dumb" }

// ColorEnabled reports whether colour may be written to w: it is a
// terminal, NO_COLOR is unset or empty and TERM is not dumb.
func ColorEnabled(w io.Writer) bool { return colorAllowed() && IsTerminal(w) }

// colorAllowed is what the environment says about colour on a terminal.
func colorAllowed() bool { return os.Getenv("NO_COLOR") == "" && !dumb() }

// Color is an SGR colour.
type Color string

// The colours kiln uses.
const (
	Red    Color = "31"
	Green  Color = "32"
	Yellow Color = "33"
	Cyan   Color = "36"
	Bold   Color = "1"
)

// Painter colours text, or leaves it alone when colour is off.
type Painter struct{ on bool }

// NewPainter paints for w, if ColorEnabled(w).
func NewPainter(w io.Writer) Painter { return Painter{on: ColorEnabled(w)} }

// Always is a painter that colours whatever the output (for a
// --color=always flag, and tests).
func Always() Painter { return Painter{on: true} }

// Enabled reports whether the painter colours anything.
func (p Painter) Enabled() bool { return p.on }

// Paint returns s in colour c, or s itself when colour is off.
func (p Painter) Paint(c Color, s string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + string(c) + "m" + s + "\x1b[0m"
}

// Progress is a status line for long work, rewritten in place on a
// terminal and silent everywhere else. It is safe for concurrent use.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	shown bool
}

// NewProgress writes progress to w (stderr) when it is a terminal that is
// not dumb; otherwise every method does nothing.
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, on: !dumb() && IsTerminal(w)}
}

// Enabled reports whether progress is shown.
func (p *Progress) Enabled() bool { return p.on }

// Show replaces the status line.
func (p *Progress) Show(format string, args ...any) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Carriage return, then erase the line: the new status in place of
	// the old one, whatever their lengths.
	fmt.Fprintf(p.w, "\r\x1b[K"+format, args...)
	p.shown = true
}

// Clear erases the status line, before the command prints its result.
func (p *Progress) Clear() {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		io.WriteString(p.w, "\r\x1b[K")
		p.shown = false
	}
}
