package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestPanicIsAnInternalError: a panic anywhere in a command ends the run
// with exit code 3 (not Go's 2, which kiln uses for usage errors), asks
// for a bug report and prints the stack, instead of crashing.
func TestPanicIsAnInternalError(t *testing.T) {
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr}
	root := a.newRootCmd()
	root.AddCommand(&cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error {
		var m map[string]int
		m["x"]++ // a real runtime panic: assignment to a nil map
		return nil
	}})
	code := a.execute(context.Background(), root, []string{"boom"})
	if code != ExitInternal {
		t.Errorf("exit code %d, want %d", code, ExitInternal)
	}
	got := stderr.String()
	for _, want := range []string{
		"kiln: internal error: assignment to entry in nil map",
		"This is a kiln bug, please report it",
		"runtime/debug.Stack", // the stack follows
		"panic_internal_test.go",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout is for the product only, got %q", stdout.String())
	}
}
