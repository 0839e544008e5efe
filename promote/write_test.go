package promote

import (
	"os"
	"path/filepath"
	"testing"
)

// Write replaces no file until every file is staged: when one cannot be
// written, the others keep their old bytes and no temporary file is left.
func TestWriteAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.cue"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := &Result{Files: map[string][]byte{"a.cue": []byte("new"), "missing/b.cue": []byte("b")}}
	if err := Write(dir, res); err == nil {
		t.Fatal("Write into a missing directory succeeded")
	}
	assertDir(t, dir, map[string]string{"a.cue": "old"})

	res.Files = map[string][]byte{"a.cue": []byte("new"), "c.cue": []byte("c")}
	if err := Write(dir, res); err != nil {
		t.Fatal(err)
	}
	assertDir(t, dir, map[string]string{"a.cue": "new", "c.cue": "c"})
	if fi, _ := os.Stat(filepath.Join(dir, "a.cue")); fi.Mode().Perm() != 0o600 {
		t.Errorf("a.cue's mode is %v, want its old 0600", fi.Mode().Perm())
	}
}

func assertDir(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want %d files", names, len(want))
	}
	for name, content := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != content {
			t.Errorf("%s = %q, %v; want %q", name, b, err, content)
		}
	}
}
