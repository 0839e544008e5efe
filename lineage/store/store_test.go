package store

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage/store/storetest"
)

// objects is a bucket's content in the fakes below.
var objects = map[string]string{
	"skin-lesion/lineage/derm-ml/skin-lesion/retrain/r1.json":     `{"run":1}`,
	"skin-lesion/lineage/derm-ml/skin-lesion/retrain/r2.json":     `{"run":2}`,
	"skin-lesion/lineage/derm-ml/skin-lesion/resnet-tune/s1.json": `{"run":3}`,
	"skin-lesion/lineage/derm-ml/other/retrain/r9.json":           `{"run":9}`,
	"skin-lesion/pipelines/retrain/r1/train/model.tgz":            "…",
}

// bucketDir writes objects into a directory as bucket's keys, for
// storetest to serve.
func bucketDir(t *testing.T, bucket string) string {
	dir := t.TempDir()
	for k, v := range objects {
		p := filepath.Join(dir, bucket, filepath.FromSlash(k))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(v), 0o644))
	}
	return dir
}

// keysBelow are the objects' keys below prefix, in order.
func keysBelow(prefix string) []string {
	var keys []string
	for k := range objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// awsEnv gives the SDK static credentials and nothing else to find.
func awsEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	for _, v := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"} {
		t.Setenv(v, "")
	}
}

func TestS3(t *testing.T) {
	awsEnv(t)
	srv := storetest.New(bucketDir(t, "acme-ml-artifacts"))
	defer srv.Close()
	// A MinIO-like store: host:port over plain HTTP, as the spec says.
	repo := &ir.S3Repository{Bucket: "acme-ml-artifacts", Endpoint: strings.TrimPrefix(srv.URL, "http://"), Insecure: true, Region: "eu-west-1"}
	st, err := NewS3(context.Background(), "acme-ml-artifacts", repo)
	require.NoError(t, err)

	keys, err := st.List(t.Context(), "skin-lesion/lineage/derm-ml/skin-lesion/")
	require.NoError(t, err)
	assert.Equal(t, keysBelow("skin-lesion/lineage/derm-ml/skin-lesion/"), keys, "every page")
	b, err := st.Get(t.Context(), "skin-lesion/lineage/derm-ml/skin-lesion/retrain/r2.json")
	require.NoError(t, err)
	assert.JSONEq(t, `{"run":2}`, string(b))
	assert.Equal(t, []string{
		"s3 list acme-ml-artifacts prefix=skin-lesion/lineage/derm-ml/skin-lesion/ token=",
		"s3 list acme-ml-artifacts prefix=skin-lesion/lineage/derm-ml/skin-lesion/ token=2",
		"s3 get acme-ml-artifacts skin-lesion/lineage/derm-ml/skin-lesion/retrain/r2.json",
	}, srv.Requests())

	_, err = st.Get(t.Context(), "skin-lesion/lineage/none.json")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorContains(t, err, "s3://acme-ml-artifacts/skin-lesion/lineage/none.json")

	// A store that is not there: the error names the bucket and key.
	srv.Close()
	_, err = st.Get(t.Context(), "k.json")
	assert.ErrorContains(t, err, "reading s3://acme-ml-artifacts/k.json")
	assert.NotErrorIs(t, err, fs.ErrNotExist)
}

func TestS3Endpoint(t *testing.T) {
	for ep, want := range map[string]string{
		"s3.amazonaws.com":                "",
		"s3.eu-west-1.amazonaws.com":      "",
		"s3.eu-west-1.amazonaws.com:443":  "",
		"minio.minio.svc:9000":            "https://minio.minio.svc:9000",
		"https://storage.example.com:443": "https://storage.example.com:443",
		"":                                "",
	} {
		assert.Equal(t, want, s3Endpoint(&ir.S3Repository{Endpoint: ep}), ep)
	}
	assert.Equal(t, "http://minio.minio.svc:9000", s3Endpoint(&ir.S3Repository{Endpoint: "minio.minio.svc:9000", Insecure: true}))
}

// forbidden answers every request as Cloud Storage does without access.
func forbidden(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":{"code":403,"message":"caller does not have storage.objects.get access"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGCS(t *testing.T) {
	srv := storetest.New(bucketDir(t, "acme-ml-artifacts"))
	defer srv.Close()
	st := NewGCSAt("acme-ml-artifacts", srv.URL, srv.Client())

	keys, err := st.List(t.Context(), "skin-lesion/lineage/derm-ml/skin-lesion/")
	require.NoError(t, err)
	assert.Equal(t, keysBelow("skin-lesion/lineage/derm-ml/skin-lesion/"), keys)
	b, err := st.Get(t.Context(), "skin-lesion/lineage/derm-ml/skin-lesion/retrain/r1.json")
	require.NoError(t, err)
	assert.JSONEq(t, `{"run":1}`, string(b))
	assert.Equal(t, []string{
		"gcs list acme-ml-artifacts prefix=skin-lesion/lineage/derm-ml/skin-lesion/ token=",
		"gcs list acme-ml-artifacts prefix=skin-lesion/lineage/derm-ml/skin-lesion/ token=2",
		"gcs get acme-ml-artifacts skin-lesion/lineage/derm-ml/skin-lesion/retrain/r1.json alt=media",
	}, srv.Requests())

	_, err = st.Get(t.Context(), "none.json")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorContains(t, err, "gs://acme-ml-artifacts/none.json")

	no := forbidden(t)
	_, err = NewGCSAt("secret-bucket", no.URL, no.Client()).Get(t.Context(), "k.json")
	assert.ErrorContains(t, err, "gs://secret-bucket/k.json: 403 Forbidden: caller does not have storage.objects.get access")
	_, err = NewGCSAt("secret-bucket", no.URL, no.Client()).List(t.Context(), "p/")
	assert.ErrorContains(t, err, "listing gs://secret-bucket/p/: 403 Forbidden")

	// The emulator convention of Google's clients: no credentials.
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(srv.URL, "http://"))
	b, err = NewGCS("acme-ml-artifacts").Get(t.Context(), "skin-lesion/lineage/derm-ml/skin-lesion/retrain/r2.json")
	require.NoError(t, err)
	assert.JSONEq(t, `{"run":2}`, string(b))
}
