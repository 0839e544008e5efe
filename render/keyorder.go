package render

import (
	"maps"
	"slices"
	"unicode"

	goyaml "go.yaml.in/yaml/v2"
)

// ordered returns v with every map replaced, at any depth, by a
// goyaml.MapSlice holding its entries in the order go-yaml would write
// them, so that go-yaml writes them as they are and never sorts a map
// itself.
//
// go-yaml sorts a map's keys with a comparator that compares runs of
// digits as numbers and puts letters after everything else. For keys that
// mix digits and letters it is not a consistent order ("9" < "10" < "1a"
// < "9"), and go-yaml sorts the keys in Go's random map iteration order:
// the same map could come out in different orders from run to run. Here
// the keys are first sorted bytewise, a fixed starting order, then
// stable-sorted with go-yaml's comparator. Where that comparator is
// consistent, it orders any set of distinct keys in exactly one way, so
// the order is go-yaml's and the output is unchanged; where it is not,
// the order is still the same on every run.
//
// Lists are rewritten in place; the maps are left as they are.
func ordered(v any) any {
	switch v := v.(type) {
	case map[string]any:
		keys := sortedYAMLKeys(v)
		s := make(goyaml.MapSlice, len(keys))
		for i, k := range keys {
			s[i] = goyaml.MapItem{Key: k, Value: ordered(v[k])}
		}
		return s
	case []any:
		for i, e := range v {
			v[i] = ordered(e)
		}
	}
	return v
}

// sortedYAMLKeys returns m's keys in the order kiln writes them: sorted
// bytewise, then stable-sorted with go-yaml's comparator (see ordered).
func sortedYAMLKeys(m map[string]any) []string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, compareYAMLKeys)
	return keys
}

// compareYAMLKeys orders two distinct map keys as go-yaml v2 does: -1
// when it writes a first. For distinct strings its comparator always puts
// one before the other, never both.
func compareYAMLKeys(a, b string) int {
	if yamlKeyLess(a, b) {
		return -1
	}
	return 1
}

// yamlKeyLess is go-yaml v2's comparator for string map keys (its
// keyList.Less, sorter.go), rewritten: it must agree with it on every
// pair of keys, or the output would change. Keys compare rune by rune;
// at the first difference, letters compare as runes and sort after
// anything that is not a letter; otherwise the runs of digits starting
// there compare as numbers (leading zeros do not count, zeros inside a
// number begun in the shared prefix do), then the shorter run first,
// then the runes themselves. Shorter keys come before their extensions.
func yamlKeyLess(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return yamlKeyLessASCII(a, b)
	}
	ar, br := []rune(a), []rune(b)
	for i := 0; i < len(ar) && i < len(br); i++ {
		x, y := ar[i], br[i]
		if x == y {
			continue
		}
		xl, yl := unicode.IsLetter(x), unicode.IsLetter(y)
		if xl && yl {
			return x < y
		}
		if xl || yl {
			return yl
		}
		var xn, yn int64
		if x == '0' || y == '0' {
			// A zero inside a number already begun (a nonzero digit
			// before it, in the shared prefix) counts as a digit.
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					xn, yn = 1, 1
					break
				}
			}
		}
		xe, ye := i, i
		for ; xe < len(ar) && unicode.IsDigit(ar[xe]); xe++ {
			xn = xn*10 + int64(ar[xe]-'0')
		}
		for ; ye < len(br) && unicode.IsDigit(br[ye]); ye++ {
			yn = yn*10 + int64(br[ye]-'0')
		}
		if xn != yn {
			return xn < yn
		}
		if xe != ye {
			return xe < ye
		}
		return x < y
	}
	return len(ar) < len(br)
}

// yamlKeyLessASCII is yamlKeyLess for ASCII keys, a byte a rune: the same
// steps without converting the keys (map keys are nearly always ASCII,
// and sorting them is a good part of encoding).
func yamlKeyLessASCII(a, b string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		xl, yl := isLetterASCII(x), isLetterASCII(y)
		if xl && yl {
			return x < y
		}
		if xl || yl {
			return yl
		}
		var xn, yn int64
		if x == '0' || y == '0' {
			for j := i - 1; j >= 0 && isDigitASCII(a[j]); j-- {
				if a[j] != '0' {
					xn, yn = 1, 1
					break
				}
			}
		}
		xe, ye := i, i
		for ; xe < len(a) && isDigitASCII(a[xe]); xe++ {
			xn = xn*10 + int64(a[xe]-'0')
		}
		for ; ye < len(b) && isDigitASCII(b[ye]); ye++ {
			yn = yn*10 + int64(b[ye]-'0')
		}
		if xn != yn {
			return xn < yn
		}
		if xe != ye {
			return xe < ye
		}
		return x < y
	}
	return len(a) < len(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isLetterASCII(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigitASCII(c byte) bool { return c >= '0' && c <= '9' }
