package compiler

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLimitsRefuseHugeInputPromptly wants a spec over the size or nesting
// limit refused with a positioned error in well under the time CUE would
// spend evaluating it, and a spec just inside them still accepted.
func TestLimitsRefuseHugeInputPromptly(t *testing.T) {
	entries := func(n int) string {
		var b strings.Builder
		b.WriteString("package x\n\nname: \"demo\"\nnamespace: \"demo\"\n")
		for i := range n {
			fmt.Fprintf(&b, "training: \"job%d\": {framework: \"pytorch\", image: \"reg.example/trainer:1.0\", workers: 2, args: {lr: 0.1, epochs: 10}, resources: {cpu: \"4\", memory: \"16Gi\"}}\n", i)
		}
		return b.String()
	}
	// About 145 bytes an entry: half as much again as the limit.
	huge := entries(MaxSpecBytes / 100)
	if len(huge) <= MaxSpecBytes {
		t.Fatalf("test spec is %d bytes, not over the limit", len(huge))
	}
	for _, tc := range []struct{ name, src, pos, msg string }{
		{"size", huge, "spec/spec.cue", "over kiln's limit of 4194304 (4 MiB)"},
		{"depth", "package x\n\nname: \"demo\"\nnamespace: \"demo\"\nlabels: " + strings.Repeat("{a: ", 100) + `"x"` + strings.Repeat("}", 100) + "\n", "spec/spec.cue:5:", "nested more than 64 deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Evaluating the huge spec would take minutes; refusing it
			// takes milliseconds. The bound is loose so that a busy
			// machine or the race detector cannot make it flaky.
			start := time.Now()
			sys, diags := compileString(t, tc.src, Options{})
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("took %v to refuse", took)
			}
			if sys != nil || len(diags) != 1 || !strings.Contains(diags[0].Msg, tc.msg) || !strings.HasPrefix(diags[0].Pos.String(), tc.pos) {
				t.Fatalf("want one error at %s containing %q; got:\n%v", tc.pos, tc.msg, diags)
			}
		})
	}
	t.Run("inside", func(t *testing.T) {
		if sys, diags := compileString(t, entries(50), Options{}); sys == nil {
			t.Fatal(diags)
		}
	})
}
