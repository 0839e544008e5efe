package publish

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Tree writes the output under its path as render --out does: user
// files stay, stale generated files in scope go; the report says what the
// write changed.
func TestTree(t *testing.T) {
	clone := t.TempDir()
	cm := func(name string) []byte {
		return []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: ml\n")
	}
	tree := &Tree{Path: "deploy", Files: map[string][]byte{"dev/configmap-a.yaml": cm("a"), "dev/configmap-b.yaml": cm("b")}}
	if tree.Report() != nil {
		t.Error("a report before any change")
	}
	if err := tree.Change(context.Background(), clone); err != nil {
		t.Fatal(err)
	}
	if !tree.Report().Changed() || len(tree.Report().Files) != 2 {
		t.Errorf("first write: report %+v", tree.Report().Files)
	}
	// A file someone adds beside the generated ones is theirs.
	user := filepath.Join(clone, "deploy", "dev", "README.md")
	if err := os.WriteFile(user, []byte("ours\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree = &Tree{Path: "deploy", Files: map[string][]byte{"dev/configmap-a.yaml": cm("a")}}
	if err := tree.Change(context.Background(), clone); err != nil {
		t.Fatal(err)
	}
	if files := tree.Report().Files; len(files) != 1 || !strings.Contains(files[0].Path, "configmap-b") {
		t.Errorf("second write: report %+v, want configmap-b removed", files)
	}
	if _, err := os.Stat(filepath.Join(clone, "deploy", "dev", "configmap-b.yaml")); !os.IsNotExist(err) {
		t.Errorf("stale generated file kept: %v", err)
	}
	if b, err := os.ReadFile(user); err != nil || string(b) != "ours\n" {
		t.Errorf("user file: %q, %v", b, err)
	}
}

func TestRenderMessage(t *testing.T) {
	subject, body := RenderMessage("demo", "abc123-dirty", "")
	if subject != "kiln: render demo" || !strings.HasSuffix(body, "\n\nKiln-Spec-Revision: abc123-dirty") || !strings.Contains(body, "system demo at revision abc123-dirty") {
		t.Errorf("subject %q, body %q", subject, body)
	}
	if subject, _ := RenderMessage("demo", "abc", "deploy v2"); subject != "deploy v2" {
		t.Errorf("subject %q, want the one given", subject)
	}
}
