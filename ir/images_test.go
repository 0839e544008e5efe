package ir

import "testing"

func TestImageBuildSource(t *testing.T) {
	for _, tc := range []struct {
		b                   ImageBuild
		repo, revision, dir string
	}{
		{ImageBuild{Context: "https://git.example/a/b.git"}, "https://git.example/a/b.git", "", ""},
		{ImageBuild{Context: "https://git.example/a/b.git#v3"}, "https://git.example/a/b.git", "v3", ""},
		{ImageBuild{Context: "images/trainer", Repository: &BuildRepository{URL: "https://git.example/a/m.git", Revision: "main"}}, "https://git.example/a/m.git", "main", "images/trainer"},
		{ImageBuild{Context: ".", Repository: &BuildRepository{URL: "https://git.example/a/m.git"}}, "https://git.example/a/m.git", "", ""},
	} {
		repo, rev, dir := tc.b.Source()
		if repo != tc.repo || rev != tc.revision || dir != tc.dir {
			t.Errorf("%q: got %q %q %q, want %q %q %q", tc.b.Context, repo, rev, dir, tc.repo, tc.revision, tc.dir)
		}
	}
}
