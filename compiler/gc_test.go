package compiler

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's setting (the runtime only reads it by
// setting it).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestRelaxGCRestoresAfterOverlappingCompilations(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	first := relaxGC(evalGCPercent)
	if got := gcPercent(); got != evalGCPercent {
		t.Fatalf("while evaluating: GOGC %d, want %d", got, evalGCPercent)
	}
	second := relaxGC(evalGCPercent)
	first()
	first() // a deferred restore after an explicit one
	if got := gcPercent(); got != evalGCPercent {
		t.Errorf("with a compilation still evaluating: GOGC %d, want %d", got, evalGCPercent)
	}
	second()
	if got := gcPercent(); got != 100 {
		t.Errorf("after both: GOGC %d, want 100 restored", got)
	}
}

func TestRelaxGCLeavesUsersSetting(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	restore := relaxGC(evalGCPercent)
	if got := gcPercent(); got != 50 {
		t.Errorf("GOGC=50 set by the user: %d while evaluating", got)
	}
	restore()
	t.Setenv("GOGC", "")
	debug.SetGCPercent(-1)
	restore = relaxGC(evalGCPercent)
	if got := gcPercent(); got != -1 {
		t.Errorf("collector switched off: GOGC %d while evaluating, want it off", got)
	}
	restore()
	if got := gcPercent(); got != -1 {
		t.Errorf("collector switched off: GOGC %d after, want it off", got)
	}
}
