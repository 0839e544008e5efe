package lineagestep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/ir"
)

// TestWhereTheRecordGoes: the record's key and URI in an S3 or a Cloud
// Storage repository, the bucket's key prefix first and the run's name
// last; nothing without a repository.
func TestWhereTheRecordGoes(t *testing.T) {
	sys := &ir.System{Name: "skin-lesion"}
	env := func(r *ir.ArtifactRepository) *ir.Environment {
		return &ir.Environment{Name: "prod", Namespace: "derm-ml", Spec: &ir.Spec{Artifacts: r}}
	}
	s3 := env(&ir.ArtifactRepository{S3: &ir.S3Repository{Bucket: "acme", KeyPrefix: "/skin/"}})
	assert.Equal(t, "skin/lineage/derm-ml/skin-lesion/re-train/{{workflow.name}}.json", Key(sys, s3, "re_train"))
	assert.Equal(t, "s3://acme/skin/lineage/derm-ml/skin-lesion/re-train/{{workflow.name}}.json", URI(sys, s3, "re_train"))
	out := Outputs(sys, s3, "re_train", "/tmp/out/uri")
	require.NotNil(t, out.Artifacts[0].S3)
	assert.Equal(t, Key(sys, s3, "re_train"), out.Artifacts[0].S3.Key)
	assert.Equal(t, File, out.Artifacts[0].Path)
	assert.Equal(t, Output, out.Parameters[0].GlobalName)
	assert.Equal(t, "/tmp/out/uri", out.Parameters[0].ValueFrom.Path)

	gcs := env(&ir.ArtifactRepository{GCS: &ir.GCSRepository{Bucket: "acme"}})
	assert.Equal(t, "gs://acme/lineage/derm-ml/skin-lesion/tune/{{workflow.name}}.json", URI(sys, gcs, "tune"))
	require.NotNil(t, Outputs(sys, gcs, "tune", "u").Artifacts[0].GCS)

	none := env(nil)
	assert.Empty(t, Key(sys, none, "tune"))
	assert.Empty(t, URI(sys, none, "tune"))
}

// TestMissing: a run records lineage only with a repository and a kiln
// image, and the reason names what to set.
func TestMissing(t *testing.T) {
	repo := &ir.ArtifactRepository{GCS: &ir.GCSRepository{Bucket: "acme"}}
	env := &ir.Environment{Name: "dev", Spec: &ir.Spec{Artifacts: repo}}
	assert.Empty(t, Missing(env, "kiln:1", ""))
	assert.Contains(t, Missing(env, "", ""), "name it in images.kiln")
	assert.NotContains(t, Missing(env, "", ""), "(or in")
	assert.Contains(t, Missing(env, "", "tools.kiln"), "name it in images.kiln (or in tools.kiln)")
	for _, r := range []*ir.ArtifactRepository{nil, {}, {S3: &ir.S3Repository{}, GCS: &ir.GCSRepository{}}} {
		env.Spec.Artifacts = r
		assert.Equal(t, "environment dev has no artifact repository to store the record in (artifacts.s3 or artifacts.gcs)", Missing(env, "kiln:1", ""))
	}
}

// TestDigest: the spec's JSON alone (a pipeline), or followed by each
// part after a NUL (a sweep's plan); any change changes the digest.
func TestDigest(t *testing.T) {
	spec := &wfv1.WorkflowSpec{Entrypoint: "main"}
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), Digest(spec))
	sum = sha256.Sum256(append(append(b, 0), "plan"...))
	assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), Digest(spec, []byte("plan")))
	assert.NotEqual(t, Digest(spec, nil), Digest(spec), "an empty plan is still a part")
	assert.NotEqual(t, Digest(spec), Digest(&wfv1.WorkflowSpec{Entrypoint: "other"}))
}

// TestArgs: the run's flags as Argo fills them in, and the datasets the
// environment defines, sorted, each once.
func TestArgs(t *testing.T) {
	assert.Equal(t, []string{"--run-name", "{{workflow.name}}", "--run-uid", "{{workflow.uid}}", "--phase", "{{workflow.status}}",
		"--started", "{{workflow.creationTimestamp}}", "--spec-digest", "sha256:x"}, RunArgs("sha256:x"))
	env := &ir.Environment{Spec: &ir.Spec{Datasets: map[string]*ir.Dataset{"b": {URI: "s3://b/"}, "a": {URI: "gs://a/"}}}}
	assert.Equal(t, []string{"--dataset", "a=gs://a/", "--dataset", "b=s3://b/"}, DatasetArgs(env, map[string]bool{"b": true, "a": true, "undefined": true}))
	assert.Empty(t, DatasetArgs(env, nil))
}
