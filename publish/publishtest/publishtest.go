// Package publishtest helps tests that run git: it isolates git from the
// configuration and credentials of the machine the tests run on.
package publishtest

import (
	"os/exec"
	"testing"
)

// IsolateGit skips t when git is not installed, and otherwise gives git,
// for the rest of t, an empty home (no ~/.gitconfig, no credential
// helpers, no insteadOf rules), no system configuration, a fixed author
// and committer, and none of the tokens kiln reads (KILN_GIT_TOKEN,
// GITHUB_TOKEN). It uses t.Setenv, so t cannot run in parallel.
func IsolateGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
		"KILN_GIT_TOKEN": "", "GITHUB_TOKEN": "",
	} {
		t.Setenv(k, v)
	}
}
