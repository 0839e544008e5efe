package serving

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/rendertest"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// crdValidator is the validator with the upstream CRDs, loaded once.
func crdValidator(t *testing.T) *validate.Validator { return validatetest.CRDs(t) }

func intp(v int) *int { return &v }

var restricted = ir.Security{Profile: "restricted", RunAsUser: 1000, RunAsGroup: 1000, FSGroup: 1000}

// model is a minimal entry with the schema's defaults.
func model(runtime, format string) *ir.Serving {
	return &ir.Serving{
		Runtime:        runtime,
		Model:          ir.ServingModel{Format: format, StorageURI: "s3://acme-models/skin/v7", Port: 8080},
		Replicas:       ir.ReplicaRange{Min: 1, Max: 1},
		DeploymentMode: "Knative",
		Security:       restricted,
		Metrics:        true,
	}
}

const specFile = "spec/serving.cue"

// Lines of the fake spec file the sources of an entry point at.
var fieldLines = map[string]int{
	"":                     10,
	"model.format":         11,
	"model.storageUri":     12,
	"model.image":          13,
	"canary.percent":       14,
	"canary.stablePercent": 15,
	"replicas.min":         16,
	"replicas.max":         17,
	"autoscale.metric":     18,
	"resources.gpus":       19,
	"transformer":          20,
	"expose.host":          21,
	"expose.canaryHeader":  22,
	"expose.tls":           23,
	"canary.storageUri":    24,
	"credentials.key":      25,
	"access":               26,
}

// environment is an environment serving entries.
func environment(name string, production bool, quota int, serving map[string]*ir.Serving) *ir.Environment {
	src := ir.Sources{"": {File: "spec/system.cue", Line: 1, Col: 1}}
	for entry := range serving {
		for field, line := range fieldLines {
			p := ir.Path("serving", entry)
			if field != "" {
				p = ir.Join(p, strings.Split(field, ".")...)
			}
			src[p] = diag.Pos{File: specFile, Line: line, Col: 3}
		}
	}
	return &ir.Environment{
		Name:       name,
		Namespace:  "derm-ml",
		Production: production,
		GPU:        ir.GPUPolicy{Quota: quota, MaxPerPod: 8, Products: []string{"NVIDIA-A100-SXM4-80GB"}},
		Spec:       &ir.Spec{Serving: serving},
		Sources:    src,
	}
}

func system(envs ...*ir.Environment) *ir.System {
	return &ir.System{Name: "skin-lesion", Namespace: "derm-ml", Environments: envs, Dir: "spec", SpecDir: "spec"}
}

func renderSystem(sys *ir.System) (*render.Result, diag.List) {
	return render.Render(context.Background(), sys, render.Options{Renderers: []render.Renderer{Renderer{}}})
}

type goldenCase struct {
	s          *ir.Serving
	production bool
	// ingress of the environment; Istio's when zero.
	ingress ir.Ingress
}

// goldenCases are the entries whose output is kept in testdata/golden:
// one per way of serving, and the variants that change what is emitted.
func goldenCases() map[string]goldenCase {
	cases := map[string]goldenCase{}

	// Knative-mode KServe in production: GPUs, a 10% canary KServe splits,
	// testers routed to the canary by header, TLS at the gateway, limited
	// callers, Knative concurrency scaling.
	sl := model("kserve", "pytorch")
	sl.Model.RuntimeVersion = "0.12.1"
	sl.Model.Protocol = "v2"
	sl.Canary = &ir.Canary{StorageURI: "s3://acme-models/skin/v8", Percent: 10}
	sl.Replicas = ir.ReplicaRange{Min: 1, Max: 4}
	sl.Autoscale = &ir.Autoscale{Metric: "concurrency", Target: 8}
	sl.Resources = ir.Resources{GPUs: 1, CPU: "2", Memory: "8Gi", SHM: "1Gi"}
	sl.Credentials = &ir.SecretRef{Secret: "s3-creds"}
	sl.Expose = &ir.Expose{Host: "skin.ml.acme.example", Path: "/", TLS: &ir.SecretRef{Secret: "skin-tls"}, Timeout: "30s", Retries: intp(2)}
	sl.Expose.CanaryHeader = &ir.CanaryHeader{Name: "x-canary", Value: "always"}
	sl.Access = &ir.ServingAccess{Principals: []string{"cluster.local/ns/derm-web/sa/frontend"}, Namespaces: []string{"derm-batch"}}
	cases["kserve-serverless"] = goldenCase{s: sl, production: true}

	// Knative-mode KServe with a transformer, scaled to zero in dev, behind
	// an existing gateway under a path.
	st := model("kserve", "sklearn")
	st.Replicas = ir.ReplicaRange{Min: 0, Max: 3}
	st.Transformer = &ir.Transformer{Image: "ghcr.io/acme/skin-transformer:1.0.0", Args: []string{"--size=224"}, Resources: &ir.Resources{CPU: "500m", Memory: "1Gi"}}
	st.Expose = &ir.Expose{Host: "models.acme.example", Path: "/skin", Gateway: "istio-system/public"}
	st.ServiceAccount = "model-reader"
	cases["kserve-serverless-transformer"] = goldenCase{s: st, production: false}

	// Standard-mode KServe in production with a 20% canary as a second
	// InferenceService, split by kiln's VirtualServices and
	// DestinationRule, with a transformer, HPA on CPU, header routing.
	raw := model("kserve", "onnx")
	raw.DeploymentMode = "Standard"
	raw.Canary = &ir.Canary{StorageURI: "gs://acme-models/skin/v8", Percent: 20, StablePercent: intp(80)}
	raw.Replicas = ir.ReplicaRange{Min: 2, Max: 6}
	raw.Autoscale = &ir.Autoscale{Metric: "cpu", Target: 70}
	raw.Resources = ir.Resources{GPUs: 1, CPU: "4", Memory: "16Gi"}
	raw.Transformer = &ir.Transformer{Image: "ghcr.io/acme/skin-transformer:1.0.0"}
	raw.Expose = &ir.Expose{Host: "skin.ml.acme.example", Path: "/v2/", GatewaySelector: map[string]string{"app": "public-gateway"}, Timeout: "10s", Retries: intp(3)}
	raw.Expose.CanaryHeader = &ir.CanaryHeader{Name: "x-model-version", Value: "canary"}
	raw.Access = &ir.ServingAccess{Namespaces: []string{"derm-web"}}
	cases["kserve-raw-canary"] = goldenCase{s: raw, production: true}

	// Standard-mode KServe running a custom model server with probes.
	cu := model("kserve", "custom")
	cu.DeploymentMode = "Standard"
	cu.Model.Image = "ghcr.io/acme/skin-server:3.1.0"
	cu.Model.Args = []string{"--workers=2"}
	cu.Model.Port = 9000
	cu.Model.Health = "/healthz"
	cu.Model.StorageURI = "pvc://models/skin/v7"
	cu.Replicas = ir.ReplicaRange{Min: 1, Max: 2}
	cu.Resources = ir.Resources{CPU: "1", Memory: "2Gi"}
	cu.Metrics = false
	cases["kserve-raw-custom"] = goldenCase{s: cu, production: false}

	// TF Serving in production: Deployments per version, one Service, an
	// HPA each, the monitoring config, a canary split by kiln.
	tf := model("tfserving", "tensorflow")
	tf.Model.StorageURI = "pvc://models/skin/v7"
	tf.Model.RuntimeVersion = "2.17.0"
	tf.Canary = &ir.Canary{StorageURI: "pvc://models/skin/v8", Percent: 10}
	tf.Replicas = ir.ReplicaRange{Min: 2, Max: 8}
	tf.Autoscale = &ir.Autoscale{Metric: "cpu", Target: 75}
	tf.Resources = ir.Resources{GPUs: 1, CPU: "4", Memory: "16Gi"}
	tf.Expose = &ir.Expose{Host: "tf.ml.acme.example", Path: "/"}
	cases["tfserving"] = goldenCase{s: tf, production: true}

	// TF Serving from GCS with a key file, fixed replicas, no canary.
	tfs := model("tfserving", "tensorflow")
	tfs.Model.StorageURI = "gs://acme-models/skin/v7"
	tfs.Credentials = &ir.SecretRef{Secret: "gcs-models", Key: "sa.json"}
	tfs.Replicas = ir.ReplicaRange{Min: 2, Max: 2}
	tfs.Resources = ir.Resources{CPU: "2", Memory: "4Gi"}
	cases["tfserving-gcs"] = goldenCase{s: tfs, production: false}

	// Seldon Core: a prepackaged sklearn server, a canary predictor with
	// 25% of the traffic, CPU autoscaling, exposed.
	sd := model("seldon", "sklearn")
	sd.Canary = &ir.Canary{StorageURI: "s3://acme-models/skin/v8", Percent: 25}
	sd.Replicas = ir.ReplicaRange{Min: 2, Max: 5}
	sd.Autoscale = &ir.Autoscale{Metric: "cpu", Target: 60}
	sd.Resources = ir.Resources{CPU: "1", Memory: "2Gi"}
	sd.Credentials = &ir.SecretRef{Secret: "s3-creds"}
	sd.Expose = &ir.Expose{Host: "seldon.ml.acme.example", Path: "/"}
	cases["seldon"] = goldenCase{s: sd, production: true}

	// The Gateway API ingress with Istio in the mesh: Standard KServe in
	// production with a 20% canary, testers' header, a timeout (retries
	// are left out: not in the standard channel), behind a path on a
	// shared Gateway in another namespace; access by Istio's policy.
	gw := model("kserve", "sklearn")
	gw.DeploymentMode = "Standard"
	gw.Canary = &ir.Canary{StorageURI: "s3://acme-models/skin/v8", Percent: 20}
	gw.Replicas = ir.ReplicaRange{Min: 2, Max: 4}
	gw.Autoscale = &ir.Autoscale{Metric: "cpu", Target: 70}
	gw.Resources = ir.Resources{CPU: "1", Memory: "2Gi"}
	gw.Expose = &ir.Expose{Host: "ml.acme.example", Path: "/skin", Timeout: "1m30s", Retries: new(2),
		CanaryHeader: &ir.CanaryHeader{Name: "x-canary", Value: "always"}}
	gw.Access = &ir.ServingAccess{Namespaces: []string{"derm-web"}}
	cases["kserve-gateway-api"] = goldenCase{gw, true, ir.Ingress{API: "gateway-api", Mesh: "istio",
		Gateway: &ir.GatewayRef{Name: "shared", Namespace: "gateways", SectionName: "https"}}}

	// The Gateway API ingress without a mesh: TF Serving with a canary on
	// a Gateway in the model's namespace; access as a NetworkPolicy.
	gt := model("tfserving", "tensorflow")
	gt.Model.StorageURI = "gs://acme-models/skin/v7"
	gt.Canary = &ir.Canary{StorageURI: "gs://acme-models/skin/v8", Percent: 5}
	gt.Replicas = ir.ReplicaRange{Min: 1, Max: 1}
	gt.Resources = ir.Resources{CPU: "2", Memory: "4Gi"}
	gt.Expose = &ir.Expose{Host: "tf.ml.acme.example", Path: "/", Timeout: "250ms"}
	gt.Access = &ir.ServingAccess{Namespaces: []string{"derm-web"}, Principals: []string{"cluster.local/ns/batch/sa/scorer"}}
	cases["tfserving-gateway-api-nomesh"] = goldenCase{gt, false, ir.Ingress{API: "gateway-api", Mesh: "none",
		Gateway: &ir.GatewayRef{Name: "models"}}}

	// Standard KServe with a transformer on the Gateway API without a
	// mesh: the NetworkPolicy that keeps callers out must still let the
	// transformer reach its predictor (KServe points it at the
	// predictor's Service in the same namespace).
	gx := model("kserve", "sklearn")
	gx.DeploymentMode = "Standard"
	gx.Canary = &ir.Canary{StorageURI: "s3://acme-models/skin/v8", Percent: 10}
	gx.Resources = ir.Resources{CPU: "1", Memory: "2Gi"}
	gx.Transformer = &ir.Transformer{Image: "ghcr.io/acme/features:1.0.0"}
	gx.Expose = &ir.Expose{Host: "ml.acme.example", Path: "/"}
	gx.Access = &ir.ServingAccess{Namespaces: []string{"derm-web"}}
	cases["kserve-gateway-api-nomesh-transformer"] = goldenCase{gx, false, ir.Ingress{API: "gateway-api", Mesh: "none",
		Gateway: &ir.GatewayRef{Name: "models", Namespace: "gateways"}}}

	// Seldon on the Gateway API: its predictors' Services are the
	// backends.
	sg := model("seldon", "sklearn")
	sg.Canary = &ir.Canary{StorageURI: "s3://acme-models/skin/v8", Percent: 25}
	sg.Resources = ir.Resources{CPU: "1", Memory: "2Gi"}
	sg.Expose = &ir.Expose{Host: "seldon.ml.acme.example", Path: "/"}
	cases["seldon-gateway-api"] = goldenCase{sg, false, ir.Ingress{API: "gateway-api", Mesh: "istio",
		Gateway: &ir.GatewayRef{Name: "models", SectionName: "http"}}}
	return cases
}

// stream renders one entry named classifier and returns its objects as
// one YAML stream.
func stream(t *testing.T, gc goldenCase) []byte {
	t.Helper()
	env := environment("prod", gc.production, 64, map[string]*ir.Serving{"classifier": gc.s})
	env.Ingress = gc.ingress
	res, diags := renderSystem(system(env))
	require.False(t, diags.HasErrors(), "%v", diags)
	require.Len(t, res.Environments, 1)
	return rendertest.Stream(t, res.Environments[0].Items)
}

func TestGolden(t *testing.T) {
	var names []string
	for name, gc := range goldenCases() {
		names = append(names, name+".yaml")
		t.Run(name, func(t *testing.T) {
			got := stream(t, gc)
			rendertest.Golden(t, filepath.Join("testdata", "golden", name+".yaml"), got, *update)
		})
	}
	rendertest.OnlyGoldens(t, filepath.Join("testdata", "golden"), names, *update)
}

// TestGoldenValidates holds every golden object to the KServe, Istio and
// Seldon CRDs, core objects to strict decoding into k8s.io/api types, and
// every pod to the restricted Pod Security Standard.
func TestGoldenValidates(t *testing.T) {
	v := crdValidator(t)
	for name := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".yaml"))
			require.NoError(t, err)
			docs, err := validate.SplitYAML(b)
			require.NoError(t, err)
			require.NotEmpty(t, docs)
			for _, doc := range docs {
				assert.Empty(t, v.Validate(doc), "validation of\n%s", doc)
				assert.Empty(t, validate.RestrictedViolations(doc), "restricted profile")
			}
		})
	}
}

// kinds lists "Kind/name" of every object rendered for gc.
func kinds(t *testing.T, gc goldenCase) []string {
	t.Helper()
	env := environment("prod", gc.production, 64, map[string]*ir.Serving{"classifier": gc.s})
	res, diags := renderSystem(system(env))
	require.False(t, diags.HasErrors(), "%v", diags)
	var out []string
	for _, it := range res.Environments[0].Items {
		out = append(out, it.GVK().Kind+"/"+it.Object.GetName())
	}
	slices.Sort(out)
	return out
}

// TestModes pins down who owns routing in each mode: kiln renders an
// InferenceService per version in both KServe modes and splits them with
// its own VirtualServices; production adds disruption budgets.
func TestModes(t *testing.T) {
	cases := goldenCases()
	sl := kinds(t, cases["kserve-serverless"])
	assert.Equal(t, []string{
		"AuthorizationPolicy/classifier", "ClusterStorageContainer/kiln-derm-ml", "Gateway/classifier",
		"InferenceService/classifier", "InferenceService/classifier-canary", "PeerAuthentication/default",
		"PodDisruptionBudget/classifier", "PodDisruptionBudget/classifier-canary",
		"Service/classifier-serving", "ServiceAccount/classifier-storage",
		"VirtualService/classifier-ingress", "VirtualService/classifier-mesh",
	}, sl)

	raw := kinds(t, cases["kserve-raw-canary"])
	assert.Equal(t, []string{
		"AuthorizationPolicy/classifier", "ClusterStorageContainer/kiln-derm-ml", "DestinationRule/classifier", "Gateway/classifier",
		"InferenceService/classifier", "InferenceService/classifier-canary", "PeerAuthentication/default",
		"PodDisruptionBudget/classifier", "PodDisruptionBudget/classifier-canary",
		"PodDisruptionBudget/classifier-canary-transformer", "PodDisruptionBudget/classifier-transformer",
		"Service/classifier-serving", "VirtualService/classifier", "VirtualService/classifier-mesh",
	}, raw)

	dev := kinds(t, cases["kserve-raw-custom"])
	assert.NotContains(t, strings.Join(dev, " "), "PodDisruptionBudget", "no disruption budget outside production")
	assert.NotContains(t, strings.Join(dev, " "), "ClusterStorageContainer", "a pvc:// model is mounted, not downloaded")

	// Neither mode leaves the split to KServe.
	for name, weight := range map[string]string{"kserve-serverless": "weight: 10", "kserve-raw-canary": "weight: 20"} {
		b := string(stream(t, cases[name]))
		assert.NotContains(t, b, "canaryTrafficPercent", name)
		assert.Contains(t, b, weight, name)
	}
}

// TestProductionReplicas raises a production model to 2 replicas.
func TestProductionReplicas(t *testing.T) {
	s := model("kserve", "sklearn")
	e := newEntry(&render.Context{System: system(), Env: environment("prod", true, 0, nil)}, "m", s)
	assert.Equal(t, 2, e.min)
	assert.Equal(t, 2, e.max)
	e = newEntry(&render.Context{System: system(), Env: environment("dev", false, 0, nil)}, "m", s)
	assert.Equal(t, 1, e.min)
}

// TestValidatorIsStrict makes sure the checks above would catch
// something: an unknown field in an InferenceService, a wrong type in a
// VirtualService, and a pod without the restricted settings.
func TestValidatorIsStrict(t *testing.T) {
	v := crdValidator(t)
	b, err := os.ReadFile(filepath.Join("testdata", "golden", "kserve-serverless.yaml"))
	require.NoError(t, err)
	docs, err := validate.SplitYAML(b)
	require.NoError(t, err)
	var isvc, vs []byte
	for _, d := range docs {
		switch {
		case bytes.Contains(d, []byte("kind: InferenceService")):
			isvc = d
		case bytes.Contains(d, []byte("kind: VirtualService")):
			vs = d
		}
	}
	require.NotNil(t, isvc)
	require.NotNil(t, vs)
	unknown := bytes.Replace(isvc, []byte("    maxReplicas: 4\n"), []byte("    maxReplicas: 4\n    canaryPercent: 10\n"), 1)
	require.NotEqual(t, isvc, unknown)
	assert.NotEmpty(t, v.Validate(unknown), "unknown field predictor.canaryPercent")
	wrong := bytes.Replace(vs, []byte("number: 80"), []byte("number: eighty"), 1)
	require.NotEqual(t, vs, wrong)
	assert.NotEmpty(t, v.Validate(wrong), "port number is a string")
	root := bytes.Replace(isvc, []byte("runAsNonRoot: true"), []byte("runAsNonRoot: false"), -1)
	assert.NotEmpty(t, validate.RestrictedViolations(root), "pods running as root")
}

// TestDeterministic renders every golden case twice: same bytes.
func TestDeterministic(t *testing.T) {
	for name, gc := range goldenCases() {
		assert.Equal(t, string(stream(t, gc)), string(stream(t, gc)), name)
	}
}

// TestNoServingNoMesh: an environment that serves nothing gets no
// PeerAuthentication (STRICT mTLS would affect its other workloads).
func TestNoServingNoMesh(t *testing.T) {
	res, diags := renderSystem(system(environment("dev", false, 0, nil)))
	require.Empty(t, diags)
	assert.Empty(t, res.Environments[0].Items)
}

// A tester header stays in the spec between canaries: without a canary it
// is no error and routes nothing; with one it routes testers to it.
func TestCanaryHeaderBetweenCanaries(t *testing.T) {
	for _, withCanary := range []bool{false, true} {
		s := model("kserve", "sklearn")
		s.DeploymentMode = "Standard"
		s.Expose = &ir.Expose{Host: "skin.ml.acme.example", Path: "/", CanaryHeader: &ir.CanaryHeader{Name: "x-canary", Value: "1"}}
		if withCanary {
			s.Canary = &ir.Canary{StorageURI: "s3://acme-models/skin/v8", Percent: 10}
		}
		res, diags := renderSystem(system(environment("prod", false, 8, map[string]*ir.Serving{"classifier": s})))
		require.False(t, diags.HasErrors(), "%v", diags)
		stream := string(rendertest.Stream(t, res.Environments[0].Items))
		assert.Equal(t, withCanary, strings.Contains(stream, "x-canary"), "canary %v:\n%s", withCanary, stream)
	}
}
