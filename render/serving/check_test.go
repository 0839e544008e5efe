package serving

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// problems renders entries in one environment and returns the
// diagnostics as "path: message" at "line".
func problems(t *testing.T, production bool, quota int, entries map[string]*ir.Serving) diag.List {
	t.Helper()
	env := environment("prod", production, quota, entries)
	_, diags := renderSystem(system(env))
	return diags
}

// errorsOnly drops warnings.
func errorsOnly(l diag.List) diag.List {
	var out diag.List
	for _, d := range l {
		if d.Severity == diag.Error {
			out = append(out, d)
		}
	}
	return out
}

func TestChecks(t *testing.T) {
	tests := []struct {
		name     string
		entry    string
		quota    int
		prod     bool
		mutate   func(s *ir.Serving)
		runtime  string
		format   string
		path     string
		line     int
		contains string
	}{
		{name: "canary above 100", mutate: func(s *ir.Serving) { s.Canary = &ir.Canary{StorageURI: "s3://m/v8", Percent: 120} },
			path: "serving.classifier.canary.percent", line: 14, contains: "canary.percent is 120; a share of traffic is between 0 and 100"},
		{name: "canary below 0", mutate: func(s *ir.Serving) { s.Canary = &ir.Canary{StorageURI: "s3://m/v8", Percent: -5} },
			path: "serving.classifier.canary.percent", line: 14, contains: "canary.percent is -5"},
		{name: "weights", mutate: func(s *ir.Serving) {
			s.Canary = &ir.Canary{StorageURI: "s3://m/v8", Percent: 10, StablePercent: intp(80)}
		}, path: "serving.classifier.canary.stablePercent", line: 15, contains: "traffic weights add up to 90 (stable 80 + canary 10), not 100; set stablePercent to 90"},
		{name: "min above max", mutate: func(s *ir.Serving) { s.Replicas = ir.ReplicaRange{Min: 5, Max: 2} },
			path: "serving.classifier.replicas.min", line: 16, contains: "replicas.min (5) is above replicas.max (2)"},
		{name: "no GPU quota", quota: 0, mutate: func(s *ir.Serving) { s.Resources.GPUs = 1; s.Replicas.Max = 2 },
			path: "serving.classifier.resources.gpus", line: 19, contains: "serving.classifier serves on GPUs in prod (2 replicas × 1 GPU); prod has no GPU quota"},
		{name: "over GPU quota", quota: 8, mutate: func(s *ir.Serving) {
			s.Resources.GPUs = 2
			s.Replicas.Max = 3
			s.Canary = &ir.Canary{StorageURI: "s3://m/v8", Percent: 10}
		}, path: "serving.classifier.replicas.max", line: 17, contains: "may use 12 GPUs in prod (3 replicas × 2 GPUs × 2 versions, stable and canary); prod allows 8"},
		{name: "GPUs per pod", quota: 64, mutate: func(s *ir.Serving) { s.Resources.GPUs = 16 },
			path: "serving.classifier.resources.gpus", line: 19, contains: "asks for 16 GPUs per replica; prod allows at most 8 per pod"},
		{name: "derived name too long", entry: "dermatology_lesion_classifier_resnet50_v2_prod", mutate: func(s *ir.Serving) {
			s.Transformer = &ir.Transformer{Image: "t:1"}
		}, path: "serving.dermatology_lesion_classifier_resnet50_v2_prod", line: 10,
			contains: `KServe derives the host label "dermatology-lesion-classifier-resnet50-v2-prod-transformer-derm-ml" (66 characters) from them, and DNS allows 63; shorten the name by 3 characters`},
		{name: "metric for raw", mutate: func(s *ir.Serving) {
			s.DeploymentMode = "Standard"
			s.Autoscale = &ir.Autoscale{Metric: "concurrency", Target: 4}
		}, path: "serving.classifier.autoscale.metric", line: 18, contains: `Standard-mode KServe cannot scale on "concurrency": use "cpu" or "memory"`},
		{name: "metric for serverless", mutate: func(s *ir.Serving) { s.Autoscale = &ir.Autoscale{Metric: "memory", Target: 80} },
			path: "serving.classifier.autoscale.metric", line: 18, contains: `Knative-mode KServe cannot scale on "memory": use "concurrency", "rps" or "cpu"`},
		{name: "scale to zero raw", mutate: func(s *ir.Serving) { s.DeploymentMode = "Standard"; s.Replicas.Min = 0 },
			path: "serving.classifier.replicas.min", line: 16, contains: "only Knative-mode KServe scales a model to zero"},
		{name: "tfserving format", runtime: "tfserving", format: "pytorch", mutate: func(s *ir.Serving) { s.Model.StorageURI = "pvc://models/skin" },
			path: "serving.classifier.model.format", line: 11, contains: `TF Serving serves TensorFlow SavedModels only, not "pytorch"`},
		{name: "tfserving storage", runtime: "tfserving", format: "tensorflow", mutate: func(s *ir.Serving) { s.Model.StorageURI = "hf://acme/skin" },
			path: "serving.classifier.model.storageUri", line: 12, contains: `TF Serving reads models from gs:// or pvc://, not "hf://acme/skin"`},
		{name: "tfserving s3", runtime: "tfserving", format: "tensorflow",
			path: "serving.classifier.model.storageUri", line: 12, contains: `TF Serving cannot read s3://`},
		{name: "tfserving s3 canary", runtime: "tfserving", format: "tensorflow", mutate: func(s *ir.Serving) {
			s.Model.StorageURI = "gs://acme-models/skin/v7"
			s.Canary = &ir.Canary{StorageURI: "s3://m/v8", Percent: 10}
		}, path: "serving.classifier.canary.storageUri", line: 24, contains: `TF Serving cannot read s3://`},
		{name: "kserve gcs key", mutate: func(s *ir.Serving) {
			s.Model.StorageURI = "gs://acme-models/skin/v7"
			s.Credentials = &ir.SecretRef{Secret: "gcs-models", Key: "key.json"}
		}, path: "serving.classifier.credentials.key", line: 25, contains: `KServe reads GCS credentials only from the Secret key "gcloud-application-credentials.json"`},
		{name: "kserve s3 key", mutate: func(s *ir.Serving) { s.Credentials = &ir.SecretRef{Secret: "s3-creds", Key: "creds"} },
			path: "serving.classifier.credentials.key", line: 25, contains: `KServe does not read credentials.key`},
		{name: "seldon format", runtime: "seldon", format: "lightgbm",
			path: "serving.classifier.model.format", line: 11, contains: `Seldon Core has no prepackaged server for "lightgbm"`},
		{name: "transformer outside kserve", runtime: "seldon", format: "sklearn", mutate: func(s *ir.Serving) { s.Transformer = &ir.Transformer{Image: "t:1"} },
			path: "serving.classifier.transformer", line: 20, contains: "transformers are a KServe component; Seldon would ignore it"},
		{name: "custom without image", format: "custom",
			path: "serving.classifier.model.format", line: 11, contains: `format "custom" runs your own model server: set model.image`},
		{name: "image without custom", mutate: func(s *ir.Serving) { s.Model.Image = "x:1" },
			path: "serving.classifier.model.image", line: 13, contains: `model.image is used only with format "custom"`},
		{name: "tls on an existing gateway", mutate: func(s *ir.Serving) {
			s.Expose = &ir.Expose{Host: "skin.ml.acme.example", Path: "/", Gateway: "istio-system/public", TLS: &ir.SecretRef{Secret: "tls"}}
		}, path: "serving.classifier.expose.tls", line: 23, contains: "expose.gateway names an existing one (istio-system/public), which kiln leaves alone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, f := tc.runtime, tc.format
			if rt == "" {
				rt = "kserve"
			}
			if f == "" {
				f = "sklearn"
			}
			s := model(rt, f)
			if tc.mutate != nil {
				tc.mutate(s)
			}
			entry := tc.entry
			if entry == "" {
				entry = "classifier"
			}
			diags := errorsOnly(problems(t, tc.prod, tc.quota, map[string]*ir.Serving{entry: s}))
			require.Len(t, diags, 1, "%v", diags)
			d := diags[0]
			assert.Equal(t, tc.path, d.Path)
			assert.Equal(t, specFile, d.Pos.File)
			assert.Equal(t, tc.line, d.Pos.Line)
			assert.Contains(t, d.Msg, tc.contains)
		})
	}
}

// TestDerivedNameLimit: 63 characters pass, 64 do not.
func TestDerivedNameLimit(t *testing.T) {
	// "<name>-predictor-derm-ml": 18 characters besides the name.
	ok := strings.Repeat("a", 63-len("-predictor-derm-ml"))
	assert.Empty(t, problems(t, false, 0, map[string]*ir.Serving{ok: model("kserve", "sklearn")}))
	long := ok + "b"
	diags := problems(t, false, 0, map[string]*ir.Serving{long: model("kserve", "sklearn")})
	require.Len(t, diags, 1)
	assert.Contains(t, diags[0].Msg, "(64 characters)")
	assert.Contains(t, diags[0].Msg, "shorten the name by 1 character")

	// The canary's own InferenceService in Standard mode is longer.
	raw := model("kserve", "sklearn")
	raw.DeploymentMode = "Standard"
	raw.Canary = &ir.Canary{StorageURI: "s3://m/v8", Percent: 10}
	diags = problems(t, false, 0, map[string]*ir.Serving{ok: raw})
	require.Len(t, diags, 1)
	assert.Contains(t, diags[0].Msg, "-canary-predictor-derm-ml")
}

// TestSameHostAndPath: two models on one host need different paths.
func TestSameHostAndPath(t *testing.T) {
	a, b := model("kserve", "sklearn"), model("kserve", "xgboost")
	a.Expose = &ir.Expose{Host: "models.acme.example", Path: "/skin"}
	b.Expose = &ir.Expose{Host: "models.acme.example", Path: "/skin/"}
	diags := problems(t, false, 0, map[string]*ir.Serving{"alpha": a, "beta": b})
	require.Len(t, diags, 1, "%v", diags)
	assert.Equal(t, "serving.beta.expose.host", diags[0].Path)
	assert.Equal(t, 21, diags[0].Pos.Line)
	assert.Contains(t, diags[0].Msg, `serving.alpha and serving.beta both claim host "models.acme.example"`)

	b.Expose.Path = "/lesion"
	assert.Empty(t, problems(t, false, 0, map[string]*ir.Serving{"alpha": a, "beta": b}))
}

// TestProductionMinZero: production raises min to 2, so scale-to-zero
// is not an error there.
func TestProductionMinZero(t *testing.T) {
	s := model("tfserving", "tensorflow")
	s.Model.StorageURI = "gs://acme-models/skin/v7"
	s.Replicas = ir.ReplicaRange{Min: 0, Max: 3}
	assert.Empty(t, problems(t, true, 0, map[string]*ir.Serving{"m": s}))
}
