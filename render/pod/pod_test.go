package pod

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/kiln-ml/kiln/ir"
)

var restricted = ir.Security{Profile: "restricted", RunAsUser: 1000, RunAsGroup: 1000, FSGroup: 1000}

func env(datasets map[string]*ir.Dataset, products ...string) *ir.Environment {
	return &ir.Environment{Name: "dev", GPU: ir.GPUPolicy{Quota: 8, MaxPerPod: 8, Products: products}, Spec: &ir.Spec{Datasets: datasets}}
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// Restricted containers run as a UID the image may not know, whose HOME
// would be "/": they get a writable HOME unless they set their own or
// their image has a user of its own.
func TestHomeOfRestrictedContainers(t *testing.T) {
	e := env(nil)
	in := Input{Container: "c", Image: "i", Security: restricted}
	home, ok := envValue(Container(e, in), "HOME")
	assert.True(t, ok, "restricted container without HOME")
	assert.Equal(t, "/tmp", home)

	in.Env = map[string]ir.EnvVar{"HOME": {Value: "/work"}, "A": {Value: "b"}}
	c := Container(e, in)
	home, _ = envValue(c, "HOME")
	assert.Equal(t, "/work", home, "the user's HOME wins")
	assert.Len(t, c.Env, 2)
	assert.Len(t, in.Env, 2, "the entry's env is not changed")

	in.Env = nil
	in.ImageHome = true
	_, ok = envValue(Container(e, in), "HOME")
	assert.False(t, ok, "images with a user keep their HOME")

	in.ImageHome = false
	in.Security.Profile = "baseline"
	_, ok = envValue(Container(e, in), "HOME")
	assert.False(t, ok, "baseline runs as the image's user")
}

// Volumes are re-owned only when their root does not match fsGroup, so a
// large dataset claim is not walked on every pod start.
func TestFSGroupChangePolicy(t *testing.T) {
	for _, s := range []ir.Security{restricted, {Profile: "baseline", FSGroup: 100}} {
		psc := PodSecurityContext(s)
		require.NotNil(t, psc.FSGroup)
		require.NotNil(t, psc.FSGroupChangePolicy, "fsGroup without a change policy")
		assert.Equal(t, corev1.FSGroupChangeOnRootMismatch, *psc.FSGroupChangePolicy)
	}
}

// Two datasets whose credentials reach the container the same way cannot
// both be used by one pod; the same credentials can.
func TestDatasetConflicts(t *testing.T) {
	e := env(map[string]*ir.Dataset{
		"isic":   {URI: "s3://acme/isic/", Credentials: &ir.SecretRef{Secret: "s3-creds"}},
		"extra":  {URI: "s3://other/extra/", Credentials: &ir.SecretRef{Secret: "other-s3-creds"}},
		"same":   {URI: "s3://acme/more/", Credentials: &ir.SecretRef{Secret: "s3-creds"}},
		"open":   {URI: "s3://public/data/"},
		"gcs_a":  {URI: "gs://a/", Credentials: &ir.SecretRef{Secret: "gcs-a"}},
		"gcs_a2": {URI: "gs://a2/", Credentials: &ir.SecretRef{Secret: "gcs-a", Key: "key.json"}},
		"gcs_b":  {URI: "gs://b/", Credentials: &ir.SecretRef{Secret: "gcs-b"}},
		"gcs_k":  {URI: "gs://k/", Credentials: &ir.SecretRef{Secret: "gcs-a", Key: "other.json"}},
		"shards": {URI: "pvc://shards/v3"},
	})
	tests := []struct {
		datasets []string
		field    string // "" when the pod is fine
		related  []string
	}{
		{[]string{"isic", "extra"}, "datasets.1", []string{"datasets.isic.credentials", "datasets.extra.credentials"}},
		{[]string{"shards", "extra", "open", "isic"}, "datasets.3", []string{"datasets.extra.credentials", "datasets.isic.credentials"}},
		{[]string{"gcs_a", "gcs_b"}, "datasets.1", []string{"datasets.gcs_a.credentials", "datasets.gcs_b.credentials"}},
		{[]string{"gcs_a", "gcs_k"}, "datasets.1", []string{"datasets.gcs_a.credentials", "datasets.gcs_k.credentials"}},
		{[]string{"isic", "same", "open", "shards"}, "", nil},
		{[]string{"gcs_a", "gcs_a2", "isic"}, "", nil},
	}
	for _, tc := range tests {
		got := DatasetConflicts(e, tc.datasets)
		if tc.field == "" {
			assert.Empty(t, got, "%v", tc.datasets)
			// The property: every dataset is read with its own
			// credentials, so no variable is set twice and at most one
			// Secret feeds the container's AWS_* variables.
			c := Container(e, Input{Container: "c", Image: "i", Datasets: tc.datasets, Security: restricted})
			seen := map[string]bool{}
			for _, v := range c.Env {
				assert.False(t, seen[v.Name], "%v: %s set twice", tc.datasets, v.Name)
				seen[v.Name] = true
			}
			assert.LessOrEqual(t, len(c.EnvFrom), 1, "%v", tc.datasets)
			continue
		}
		require.Len(t, got, 1, "%v", tc.datasets)
		assert.Equal(t, tc.field, got[0].Field)
		assert.Equal(t, tc.related, got[0].Related)
	}
}

// A MIG profile must exist on the GPU product the pod is placed on, and
// MIG without a count requests nothing.
func TestResourceProblems(t *testing.T) {
	tests := []struct {
		name     string
		products []string
		r        ir.Resources
		fields   []string
	}{
		{"1g.10gb exists on the A100 40GB", []string{"NVIDIA-A100-PCIE-40GB"}, ir.Resources{GPUs: 1, MIG: "1g.10gb"}, nil},
		{"1g.5gb exists on the A100 40GB", []string{"NVIDIA-A100-SXM4-40GB"}, ir.Resources{GPUs: 1, MIG: "1g.5gb"}, nil},
		{"1g.5gb does not exist on the A100 80GB", []string{"NVIDIA-A100-SXM4-80GB"}, ir.Resources{GPUs: 1, MIG: "1g.5gb"}, []string{"resources.mig"}},
		{"the A100 80GB PCIe", []string{"NVIDIA-A100-80GB-PCIe"}, ir.Resources{GPUs: 2, MIG: "3g.40gb"}, nil},
		{"3g.20gb on an H100", []string{"NVIDIA-H100-80GB-HBM3"}, ir.Resources{GPUs: 1, MIG: "3g.20gb"}, []string{"resources.mig"}},
		{"H100 NVL", []string{"NVIDIA-H100-NVL"}, ir.Resources{GPUs: 1, MIG: "3g.47gb"}, nil},
		{"H100 80GB profile on the NVL", []string{"NVIDIA-H100-NVL"}, ir.Resources{GPUs: 1, MIG: "3g.40gb"}, []string{"resources.mig"}},
		{"H200", []string{"NVIDIA-H200"}, ir.Resources{GPUs: 1, MIG: "1g.18gb"}, nil},
		{"A100 profile on an H200", []string{"NVIDIA-H200"}, ir.Resources{GPUs: 1, MIG: "1g.10gb"}, []string{"resources.mig"}},
		{"A30", []string{"NVIDIA-A30"}, ir.Resources{GPUs: 4, MIG: "1g.6gb"}, nil},
		{"1g.10gb on an A30", []string{"NVIDIA-A30"}, ir.Resources{GPUs: 1, MIG: "1g.10gb"}, []string{"resources.mig"}},
		{"pinned product wins over the environment's", []string{"NVIDIA-A100-SXM4-80GB"}, ir.Resources{GPUs: 1, MIG: "1g.10gb", GPUProduct: "NVIDIA-A30"}, []string{"resources.gpuProduct"}},
		{"only the first product is selected", []string{"NVIDIA-A30", "NVIDIA-A100-SXM4-80GB"}, ir.Resources{GPUs: 1, MIG: "1g.10gb"}, []string{"resources.mig"}},
		{"unknown product", []string{"NVIDIA-B200"}, ir.Resources{GPUs: 1, MIG: "1g.23gb"}, nil},
		{"no product", nil, ir.Resources{GPUs: 1, MIG: "1g.23gb"}, nil},
		{"MIG without a count", []string{"NVIDIA-A100-SXM4-80GB"}, ir.Resources{MIG: "1g.10gb"}, []string{"resources.mig"}},
		{"whole GPUs", []string{"NVIDIA-A30"}, ir.Resources{GPUs: 1}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fields []string
			for _, p := range ResourceProblems(env(nil, tc.products...), tc.r) {
				fields = append(fields, p.Field)
			}
			assert.Equal(t, tc.fields, fields)
		})
	}
}

// Conflicts point at the later dataset of the entry, with the
// credentials of both as related positions.
func TestErrorsPositions(t *testing.T) {
	src := ir.Sources{
		"":                       {File: "spec/s.cue", Line: 1},
		"training.a.datasets.1":  {File: "spec/s.cue", Line: 30, Col: 20},
		"datasets.x.credentials": {File: "spec/s.cue", Line: 5, Col: 3},
		"datasets.y":             {File: "spec/s.cue", Line: 8, Col: 2},
	}
	ds := Errors(src, "training.a", []Problem{{Field: "datasets.1", Related: []string{"datasets.x.credentials", "datasets.y.credentials", "datasets.z.credentials"}, Msg: "m"}})
	require.Len(t, ds, 1)
	assert.Equal(t, "training.a.datasets.1", ds[0].Path)
	assert.Equal(t, 30, ds[0].Pos.Line)
	var lines []int
	for _, p := range ds[0].Related {
		lines = append(lines, p.Line)
	}
	assert.Equal(t, []int{5, 8}, lines, "no related position for what the spec does not have")
}
