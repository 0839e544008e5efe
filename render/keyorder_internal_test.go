package render

import (
	"math/rand/v2"
	"strings"
	"testing"

	goyaml "go.yaml.in/yaml/v2"
)

// TestYAMLKeyLessAgreesWithGoYAML checks yamlKeyLess against go-yaml
// itself, one pair of keys at a time (for two keys go-yaml's order does
// not depend on map iteration): hand-picked keys and random ones built
// from runes each branch of the comparator treats differently.
func TestYAMLKeyLessAgreesWithGoYAML(t *testing.T) {
	keys := []string{
		"", "a", "b", "A", "Z", "ä", "ß", "1", "9", "10", "01", "001", "0", "00", "1a", "a1", "a01",
		"a001", "a10", "a9", "a0", "a00", "10a", "1e-4", "1e4", "1.5", "1.10", "-1", "-", "_", ".",
		" ", "x y", "x-y", "x_y", "app.kubernetes.io/name", "kiln.dev/x", "٣", "a٣", "²", "🚀",
		"99999999999999999999", "99999999999999999998", "a099", "a0100", "100", "0100", "b0",
	}
	runes := []rune("0019a_b-Z.ä٣ /")
	r := rand.New(rand.NewPCG(3, 4))
	for range 150 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		keys = append(keys, b.String())
	}
	for _, a := range keys {
		for _, b := range keys {
			if a == b {
				continue
			}
			want, err := goyaml.Marshal(map[string]int{a: 0, b: 0})
			if err != nil {
				t.Fatal(err)
			}
			got, err := goyaml.Marshal(ordered(map[string]any{a: 0, b: 0}))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("keys %q, %q: go-yaml wrote\n%s\nordered wrote\n%s", a, b, want, got)
			}
		}
	}
}
