package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// dockerfile is the repository's Dockerfile as instructions, continuation
// lines joined, comments dropped.
func dockerfile(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == "") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		out = append(out, cur+trimmed)
		cur = ""
	}
	return out
}

// TestDockerfile checks what can be checked of the kiln image without a
// container runtime: it builds ./cmd/kiln with a Go at least as new as
// go.mod asks for, copies that binary into the final stage, installs git
// (promote and publish run it), runs as a numeric non-root user (so pods
// meet Pod Security restricted, which can only verify a numeric UID) and
// starts kiln.
func TestDockerfile(t *testing.T) {
	ins := dockerfile(t)
	var stages []string
	var final []string
	for _, in := range ins {
		if strings.HasPrefix(in, "FROM ") {
			stages = append(stages, in)
			final = nil
		}
		final = append(final, in)
	}
	if len(stages) != 2 {
		t.Fatalf("want a build stage and a final stage, got %q", stages)
	}
	m := regexp.MustCompile(`^FROM golang:(\d+)\.(\d+)\S* AS (\S+)$`).FindStringSubmatch(stages[0])
	if m == nil {
		t.Fatalf("build stage %q is not FROM golang:X.Y AS name", stages[0])
	}
	gomod, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gm := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(gomod))
	if atoi(m[1])*1000+atoi(m[2]) < atoi(gm[1])*1000+atoi(gm[2]) {
		t.Errorf("image builds with Go %s.%s, go.mod needs %s.%s", m[1], m[2], gm[1], gm[2])
	}
	build := regexp.MustCompile(`go build .*-o (\S+) (\./cmd/kiln)$`)
	var binary string
	for _, in := range ins {
		if b := build.FindStringSubmatch(in); b != nil {
			binary = b[1]
			if _, err := os.Stat(filepath.Join(repoRoot(t), b[2], "main.go")); err != nil {
				t.Errorf("the image builds %s: %v", b[2], err)
			}
		}
	}
	if binary == "" {
		t.Fatal("no RUN go build -o ... ./cmd/kiln")
	}
	joined := strings.Join(final, "\n")
	for _, want := range []string{
		"COPY --from=" + m[3] + " " + binary + " /usr/local/bin/kiln",
		`ENTRYPOINT ["kiln"]`,
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("final stage lacks %q:\n%s", want, joined)
		}
	}
	if !regexp.MustCompile(`apt-get install .*\bgit\b`).MatchString(joined) {
		t.Errorf("final stage does not install git:\n%s", joined)
	}
	user := regexp.MustCompile(`(?m)^USER (\S+)$`).FindAllStringSubmatch(joined, -1)
	if len(user) == 0 {
		t.Fatal("final stage sets no USER: it would run as root")
	}
	if uid, err := strconv.Atoi(strings.Split(user[len(user)-1][1], ":")[0]); err != nil || uid == 0 {
		t.Errorf("USER %s: want a numeric non-root UID", user[len(user)-1][1])
	}
}

// TestMakeImage: `make image IMAGE=...` is the one documented command that
// builds the image the spec names in images.kiln; without IMAGE it refuses
// before running anything.
func TestMakeImage(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	root := repoRoot(t)
	out, err := exec.Command("make", "-s", "-n", "-C", root, "image", "IMAGE=reg.example/kiln:1.2").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n image: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "docker build -t reg.example/kiln:1.2 .") {
		t.Errorf("make image runs:\n%s\nwant docker build -t reg.example/kiln:1.2 .", out)
	}
	cmd := exec.Command("make", "-s", "-C", root, "image", "DOCKER=false-docker-must-not-run")
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "set IMAGE") || strings.Contains(string(out), "false-docker") {
		t.Errorf("make image without IMAGE: err=%v\n%s", err, out)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
