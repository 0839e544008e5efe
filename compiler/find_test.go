package compiler

import (
	"crypto/sha256"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mapMemo is a SpecMemo in memory that counts what it is asked.
type mapMemo struct {
	m            map[[sha256.Size]byte]bool
	hits, stores int
}

func (m *mapMemo) Lookup(sum [sha256.Size]byte) (bool, bool) {
	spec, ok := m.m[sum]
	if ok {
		m.hits++
	}
	return spec, ok
}

func (m *mapMemo) Store(sum [sha256.Size]byte, spec bool) {
	m.m[sum] = spec
	m.stores++
}

func TestFindSpecs(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"a/spec.cue":          "package a\nname: \"a\"\n",
		"b/spec.cue":          "package b\nimport \"x/schema\"\nschema.#System & {\n\tenvironments: dev: {}\n}\n",
		"c/defs.cue":          "package c\n#Thing: {name: string}\n",
		"c/nested/other.txt":  "name: x\n",
		"d/broken.cue":        "package d\nfoo: {\n",
		"testdata/t/spec.cue": "name: \"t\"\n",
		"_skip/spec.cue":      "name: \"s\"\n",
		".hidden/spec.cue":    "name: \"h\"\n",
		"e/field.cue":         "package e\nteam: {name: \"x\"}\n",
	})
	want := []string{filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "d")}
	got, err := FindSpecs(root)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// The memo is filled, then answers for every directory; its answers
	// are what FindSpecs goes by.
	memo := &mapMemo{m: map[[sha256.Size]byte]bool{}}
	got, err = FindSpecsMemo(root, memo)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Zero(t, memo.hits)
	dirs := memo.stores // every directory with .cue files: a, b, c, d, e
	assert.Equal(t, 5, dirs)
	got, err = FindSpecsMemo(root, memo)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, dirs, memo.hits)
	assert.Equal(t, dirs, memo.stores)
	for k, v := range memo.m {
		memo.m[k] = !v
	}
	got, err = FindSpecsMemo(root, memo)
	require.NoError(t, err)
	assert.NotContains(t, got, filepath.Join(root, "a"), "the memo's answer was not used")

	// A changed file is another directory to the memo.
	memo = &mapMemo{m: map[[sha256.Size]byte]bool{}}
	_, err = FindSpecsMemo(root, memo)
	require.NoError(t, err)
	writeTree(t, root, map[string]string{"c/defs.cue": "package c\nname: \"c\"\n"})
	got, err = FindSpecsMemo(root, memo)
	require.NoError(t, err)
	assert.Contains(t, got, filepath.Join(root, "c"))
	assert.Equal(t, dirs+1, memo.stores)
}
