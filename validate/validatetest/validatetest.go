// Package validatetest gives tests the validator loaded with the upstream
// CRDs of ../shared/crds (or $KILN_TEST_CRDS), loaded once per test binary:
// loading every CRD takes a second, and every renderer's tests need it.
package validatetest

import (
	"sync"
	"testing"

	"github.com/kiln-ml/kiln/validate"
)

var (
	once   sync.Once
	loaded *validate.Validator
	err    error
	dir    string
	found  bool
)

// CRDs returns the validator with the upstream CRDs. Without the CRD
// directory the test is skipped, saying where it looked: the CRDs are
// the oracle, and a test that silently validated nothing would lie.
func CRDs(tb testing.TB) *validate.Validator {
	tb.Helper()
	once.Do(func() {
		dir, found = validate.FindCRDDir(".")
		if found {
			loaded, err = validate.Load(dir)
		}
	})
	if !found {
		tb.Skipf("upstream CRDs not found (looked for %q; set KILN_TEST_CRDS): not validating against the operators' CRDs", dir)
	}
	if err != nil {
		tb.Fatalf("loading the CRDs of %s: %v", dir, err)
	}
	return loaded
}
