package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/kiln-ml/kiln/cli"
)

// TestCountsAgree runs vet, check (without CRDs, so some kinds cannot be
// validated) and render on every example and checks that their summaries
// tell the same story: the same number of objects; check's validated and
// not validated add up to it, and the "not validated" warnings add up to
// what it says was not validated; render's file count is the files it
// wrote.
func TestCountsAgree(t *testing.T) {
	root := repoRoot(t)
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := cli.Run(context.Background(), args, &stdout, &stderr); code != cli.ExitOK {
			t.Fatalf("kiln %v: exit %d\n%s", args, code, stderr.String())
		}
		return stderr.String()
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	vetRe := regexp.MustCompile(`(?m)^ok: .*, (\d+) objects$`)
	checkRe := regexp.MustCompile(`(?m)^ok: .*, (\d+) objects(?:, all validated|: (\d+) validated, (\d+) not \(no CRD)`)
	warnRe := regexp.MustCompile(`(?m)^warning: (\d+) object\(s\) of .* not validated`)
	renderRe := regexp.MustCompile(`(?m)^wrote (?:.*): (\d+) files \((\d+) objects \+ (\d+) kustomization\.yaml and config files\): (\d+) created`)
	for _, name := range []string{"skin-lesion", "fraud-detect", "llm-finetune"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, "examples", name)
			out := t.TempDir()

			m := vetRe.FindStringSubmatch(run(t, "vet", dir))
			if m == nil {
				t.Fatal("vet printed no object count")
			}
			vetN := atoi(m[1])

			checkOut := run(t, "check", "--no-drift", dir)
			m = checkRe.FindStringSubmatch(checkOut)
			if m == nil {
				t.Fatalf("check printed no object count:\n%s", checkOut)
			}
			checkN, notValidated := atoi(m[1]), 0
			if m[2] != "" {
				notValidated = atoi(m[3])
				if atoi(m[2])+notValidated != checkN {
					t.Errorf("check: %s validated + %s not != %d objects", m[2], m[3], checkN)
				}
			}
			warned := 0
			for _, w := range warnRe.FindAllStringSubmatch(checkOut, -1) {
				warned += atoi(w[1])
			}
			if warned != notValidated {
				t.Errorf("check warns that %d objects were not validated, its summary says %d", warned, notValidated)
			}
			if warned == 0 {
				t.Error("check without CRDs validated every kind; the test wants some skipped")
			}

			m = renderRe.FindStringSubmatch(run(t, "render", "--out", out, dir))
			if m == nil {
				t.Fatal("render printed no counts")
			}
			files, renderN, other, created := atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4])
			if vetN != checkN || checkN != renderN {
				t.Errorf("objects: vet %d, check %d, render %d; want one number", vetN, checkN, renderN)
			}
			if renderN+other != files || created != files {
				t.Errorf("render: %d files = %d objects + %d others, %d created", files, renderN, other, created)
			}
			onDisk := 0
			err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && filepath.Base(p) != ".kiln-index" {
					onDisk++
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if onDisk != files {
				t.Errorf("render says %d files, wrote %d", files, onDisk)
			}
		})
	}
}
