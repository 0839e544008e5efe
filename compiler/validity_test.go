package compiler

import (
	"path/filepath"
	"strconv"
	"testing"
)

// TestEnvironmentNamesStayInsideTheOutput compiles hostile and malformed
// environment names and wants each either refused at its own path or, when
// accepted, to be a single local path element: kiln writes an environment
// to <out>/<environment>/<system>/, so an accepted name must never lead
// outside <out> or onto <out> itself.
func TestEnvironmentNamesStayInsideTheOutput(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../escape", "../../etc", "a/b", "/abs", `a\b`, "Prod", "prod env", "prod.eu", "-dev", "dev-", "dev\n", "dév", "ok-1", "staging", "x123456789012345678901234567890123456789012345678901234567890123"} {
		t.Run(strconv.Quote(name), func(t *testing.T) {
			spec := "package x\n\nname: \"demo\"\nnamespace: \"demo\"\nenvironments: " + strconv.Quote(name) + ": {}\n"
			sys, diags := compileString(t, spec, Options{})
			if sys == nil {
				wantPath := "environments." + strconv.Quote(name)
				for _, d := range diags {
					if d.Path == wantPath || d.Path == "environments."+name {
						return
					}
				}
				t.Fatalf("refused, but not at the environment's path; got:\n%v", diags)
			}
			for _, e := range sys.Environments {
				if !filepath.IsLocal(e.Name) || filepath.Base(e.Name) != e.Name || e.Name == "." {
					t.Errorf("accepted environment %q, which is not a single directory name inside the output", e.Name)
				}
				if len(e.Name) > 63 {
					t.Errorf("accepted environment %q, longer than a DNS-1123 label", e.Name)
				}
			}
		})
	}
}
