package pipeline

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kiln-ml/kiln/ir"
)

// TestKanikoContext turns each form of a build's context and revision
// into Kaniko's: git://<repository> with a ref after '#', a commit after
// "##" (cloned from the default branch, then checked out), or a branch
// or tag name through --git=branch=, which Kaniko looks up as either.
func TestKanikoContext(t *testing.T) {
	repo := &ir.BuildRepository{URL: "https://git.example/acme/ml.git"}
	for _, tc := range []struct {
		name string
		b    ir.ImageBuild
		want []string
	}{
		{"URL, default branch", ir.ImageBuild{Context: "https://git.example/acme/t.git"}, []string{"--context=git://git.example/acme/t.git"}},
		{"URL and tag", ir.ImageBuild{Context: "https://git.example/acme/t.git#v3"}, []string{"--context=git://git.example/acme/t.git", "--git=branch=v3"}},
		{"URL and ref", ir.ImageBuild{Context: "https://git.example/acme/t.git#refs/tags/v3"}, []string{"--context=git://git.example/acme/t.git#refs/tags/v3"}},
		{"URL and commit", ir.ImageBuild{Context: "https://git.example/acme/t.git#3f9c2e7a5b3d3f9c2e7a5b3d3f9c2e7a5b3d0a1b"}, []string{"--context=git://git.example/acme/t.git##3f9c2e7a5b3d3f9c2e7a5b3d3f9c2e7a5b3d0a1b"}},
		{"path", ir.ImageBuild{Context: "images/trainer", Repository: repo}, []string{"--context=git://git.example/acme/ml.git", "--context-sub-path=images/trainer"}},
		{"root", ir.ImageBuild{Context: ".", Repository: &ir.BuildRepository{URL: repo.URL, Revision: "main"}}, []string{"--context=git://git.example/acme/ml.git", "--git=branch=main"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.b.Dockerfile, tc.b.Ref = "Dockerfile", "reg.example/t:1"
			tc.b.Args = map[string]string{"B": "2", "A": "1"}
			want := append(tc.want, "--dockerfile=Dockerfile", "--destination=reg.example/t:1", "--digest-file=/kiln/build/digest", "--build-arg=A=1", "--build-arg=B=2")
			assert.Equal(t, want, kanikoArgs(&tc.b))
		})
	}
}

func TestRepository(t *testing.T) {
	for ref, want := range map[string]string{
		"ghcr.io/acme/t:v3":        "ghcr.io/acme/t",
		"ghcr.io/acme/t":           "ghcr.io/acme/t",
		"localhost:5000/t:v3":      "localhost:5000/t",
		"localhost:5000/t":         "localhost:5000/t",
		"t:1@sha256:0123456789abc": "t",
	} {
		assert.Equal(t, want, Repository(ref), ref)
	}
}
