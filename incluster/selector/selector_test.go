package selector_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/incluster/selector"
)

// TestSelectorUnits runs the script's own unit tests (test_selector.py)
// with the python3 on PATH, the interpreter the tools.python image
// provides in the cluster.
func TestSelectorUnits(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: selector.py's unit tests are not run")
	}
	cmd := exec.Command(python, "-B", "-m", "unittest", "-v", "test_selector")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest test_selector: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "\nOK") {
		t.Fatalf("unittest did not report OK:\n%s", out)
	}
	t.Logf("%s", out)
}

// The embedded script is the file beside this test, a whole program.
func TestScriptIsEmbedded(t *testing.T) {
	if !strings.HasPrefix(selector.Script, `"""kiln sweep selector`) || !strings.Contains(selector.Script, "if __name__ == \"__main__\":") {
		t.Fatalf("selector.Script is not selector.py: %.80q", selector.Script)
	}
}
