package serving

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate"
)

// objects renders one entry named classifier and returns its objects.
func objects(t *testing.T, gc goldenCase) []render.Item {
	t.Helper()
	env := environment("prod", gc.production, 64, map[string]*ir.Serving{"classifier": gc.s})
	env.Ingress = gc.ingress
	res, diags := renderSystem(system(env))
	require.False(t, diags.HasErrors(), "%v", diags)
	return res.Environments[0].Items
}

func ofKind[T any](items []render.Item, kind string) []*T {
	var out []*T
	for _, it := range items {
		if it.GVK().Kind == kind {
			if o, ok := any(it.Object).(*T); ok {
				out = append(out, o)
			}
		}
	}
	return out
}

// stockDefault is the container of the ClusterStorageContainer "default"
// a stock KServe v0.20.0 install ships (config/storagecontainers/
// default.yaml): resources only, no security context.
var stockDefault = corev1.Container{Name: storageInitializer, Image: "kserve/storage-initializer:v0.20.0"}

// kservePod is the predictor pod KServe v0.20.0 creates for isvc, as far as
// Pod Security is concerned: kiln's pod and container security contexts,
// and the storage-initializer its pod webhook injects. The model of the
// webhook, from upstream:
//   - the controller puts the predictor's storage URI (model.storageUri,
//     or a custom container's STORAGE_URI) in an annotation, and
//     storageContainerName in another (components/predictor.go:116-120,
//     294-309);
//   - pvc:// is mounted, nothing is injected; other URIs get an init
//     container named storage-initializer, unless one is there already
//     (storage_initializer_injector.go:388-393, 528-551);
//   - that container is built with image, args and resources and no
//     security context (pkg/utils/storage.go:311-333), then the container
//     of a ClusterStorageContainer is merged into it with a strategic
//     merge patch (storage_initializer_injector.go:625-632,
//     pkg/utils/container_merge.go:32): the one named by
//     storageContainerName, which must exist and support the URI
//     (storage_initializer_injector.go:158-183), else the first that
//     supports the URI — on a stock install, "default".
func kservePod(t *testing.T, isvc *InferenceService, cscs []*ClusterStorageContainer) *corev1.Pod {
	t.Helper()
	pred := isvc.Spec.Predictor
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: isvc.Name + "-predictor"},
		Spec:       corev1.PodSpec{SecurityContext: pred.SecurityContext},
	}
	var uri string
	if m := pred.Model; m != nil {
		uri = m.StorageURI
		p.Spec.Containers = []corev1.Container{{Name: kserveDefaultModel, Image: "runtime", SecurityContext: m.SecurityContext}}
	} else {
		require.NotEmpty(t, pred.Containers)
		p.Spec.Containers = pred.Containers
		for _, e := range pred.Containers[0].Env {
			if e.Name == "STORAGE_URI" {
				uri = e.Value
			}
		}
	}
	if uri == "" || strings.HasPrefix(uri, "pvc://") {
		return p
	}
	init := corev1.Container{Name: storageInitializer, Image: "kserve/storage-initializer:v0.20.0", Args: []string{uri, "/mnt/models"}}
	overlay := stockDefault
	if name := pred.StorageContainerName; name != "" {
		var found *ClusterStorageContainer
		for _, c := range cscs {
			if c.Name == name {
				found = c
			}
		}
		require.NotNil(t, found, "%s names ClusterStorageContainer %q, which kiln does not render: KServe fails the reconcile", isvc.Name, name)
		assert.Equal(t, "initContainer", found.Spec.WorkloadType)
		supported := false
		for _, f := range found.Spec.SupportedURIFormats {
			supported = supported || (f.Prefix != "" && strings.HasPrefix(uri, f.Prefix))
		}
		require.True(t, supported, "ClusterStorageContainer %q does not support %q: KServe refuses the pod", name, uri)
		overlay = found.Spec.Container
	}
	base, err := json.Marshal(init)
	require.NoError(t, err)
	patch, err := json.Marshal(overlay)
	require.NoError(t, err)
	merged, err := strategicpatch.StrategicMergePatch(base, patch, corev1.Container{})
	require.NoError(t, err)
	var ctr corev1.Container
	require.NoError(t, json.Unmarshal(merged, &ctr))
	p.Spec.InitContainers = append(p.Spec.InitContainers, ctr)
	return p
}

func podViolations(t *testing.T, p *corev1.Pod) []string {
	t.Helper()
	b, err := yaml.Marshal(p)
	require.NoError(t, err)
	return validate.RestrictedViolations(b)
}

// TestKServePodsMeetRestricted (B1): the predictor pods of every KServe
// golden case, with the storage-initializer KServe's webhook injects,
// pass the restricted Pod Security Standard the namespace enforces.
func TestKServePodsMeetRestricted(t *testing.T) {
	injected := 0
	for name, gc := range goldenCases() {
		if gc.s.Runtime != "kserve" {
			continue
		}
		items := objects(t, gc)
		cscs := ofKind[ClusterStorageContainer](items, "ClusterStorageContainer")
		for _, isvc := range ofKind[InferenceService](items, "InferenceService") {
			p := kservePod(t, isvc, cscs)
			injected += len(p.Spec.InitContainers)
			assert.Empty(t, podViolations(t, p), "%s: pod of %s", name, isvc.Name)
		}
	}
	require.Positive(t, injected, "no golden case downloads a model")
}

// TestStockStorageInitializerFailsRestricted shows the model above can
// fail: without storageContainerName, a stock KServe merges its default
// container, which leaves the injected storage-initializer outside
// restricted.
func TestStockStorageInitializerFailsRestricted(t *testing.T) {
	items := objects(t, goldenCases()["kserve-serverless"])
	isvc := ofKind[InferenceService](items, "InferenceService")[0]
	isvc.Spec.Predictor.StorageContainerName = ""
	v := podViolations(t, kservePod(t, isvc, nil))
	assert.NotEmpty(t, v)
	assert.Contains(t, strings.Join(v, "\n"), storageInitializer)
}

// TestStorageContainerScope: the ClusterStorageContainer is cluster-scoped
// and supports exactly the URIs the namespace downloads, so KServe's
// matching by URI in other namespaces keeps its default.
func TestStorageContainerScope(t *testing.T) {
	items := objects(t, goldenCases()["kserve-raw-canary"])
	cscs := ofKind[ClusterStorageContainer](items, "ClusterStorageContainer")
	require.Len(t, cscs, 1)
	assert.Empty(t, cscs[0].Namespace)
	var prefixes []string
	for _, f := range cscs[0].Spec.SupportedURIFormats {
		prefixes = append(prefixes, f.Prefix)
	}
	assert.Equal(t, []string{"gs://acme-models/skin/v8", "s3://acme-models/skin/v7"}, prefixes)
}

// TestServerlessCanaryStableRuns (W1): a Knative-mode canary never depends
// on KServe's rollout history. The stable model is an InferenceService of
// its own from the first sync, the canary another, and kiln's routes give
// each its share of traffic, for the exposed host and for callers in the
// mesh.
func TestServerlessCanaryStableRuns(t *testing.T) {
	gc := goldenCases()["kserve-serverless"]
	items := objects(t, gc)
	uris := map[string]string{}
	for _, isvc := range ofKind[InferenceService](items, "InferenceService") {
		assert.Nil(t, isvc.Spec.Predictor.CanaryTrafficPercent, isvc.Name)
		uris[isvc.Name] = isvc.Spec.Predictor.Model.StorageURI
	}
	assert.Equal(t, map[string]string{"classifier": gc.s.Model.StorageURI, "classifier-canary": gc.s.Canary.StorageURI}, uris)

	vss := ofKind[VirtualService](items, "VirtualService")
	require.Len(t, vss, 2)
	for _, vs := range vss {
		share := map[string]int32{}
		for _, r := range vs.Spec.HTTP {
			if r.Name != "model" {
				continue
			}
			for _, d := range r.Route {
				require.NotNil(t, d.Headers, vs.Name)
				share[d.Headers.Request.Set["Host"]] += d.Weight
			}
		}
		assert.Equal(t, map[string]int32{
			"classifier.derm-ml.svc.cluster.local":        90,
			"classifier-canary.derm-ml.svc.cluster.local": 10,
		}, share, vs.Name)
		// KServe owns (and overwrites) the VirtualService named after each
		// InferenceService.
		_, taken := uris[vs.Name]
		assert.False(t, taken, "kiln's VirtualService %s has the name of KServe's", vs.Name)
	}
}

// TestKServeClusterLocal (W5): no InferenceService is published on KServe's
// or Knative's public domain, where kiln's routes would be bypassed.
func TestKServeClusterLocal(t *testing.T) {
	for name, gc := range goldenCases() {
		if gc.s.Runtime != "kserve" {
			continue
		}
		for _, isvc := range ofKind[InferenceService](objects(t, gc), "InferenceService") {
			assert.Equal(t, "cluster-local", isvc.Labels[VisibilityLabel], "%s: %s", name, isvc.Name)
			if gc.s.DeploymentMode == "Knative" {
				assert.Equal(t, "cluster-local", isvc.Labels[KnativeVisibilityLabel], "%s: %s", name, isvc.Name)
			}
		}
	}
}

// TestServerlessAccessWarns (W5): access in Knative mode says where it
// stops holding, at the access field.
func TestServerlessAccessWarns(t *testing.T) {
	s := model("kserve", "sklearn")
	s.Access = &ir.ServingAccess{Namespaces: []string{"derm-web"}}
	diags := problems(t, false, 0, map[string]*ir.Serving{"classifier": s})
	require.Len(t, diags, 1, "%v", diags)
	assert.False(t, diags.HasErrors())
	assert.Equal(t, "serving.classifier.access", diags[0].Path)
	assert.Equal(t, 26, diags[0].Pos.Line)
	assert.Contains(t, diags[0].Msg, "Standard")

	s.DeploymentMode = "Standard"
	assert.Empty(t, problems(t, false, 0, map[string]*ir.Serving{"classifier": s}))
}

// TestTFServingGCSCredentials (B5): TF Serving finds its GCS key as a file
// named by GOOGLE_APPLICATION_CREDENTIALS, mounted from the Secret's key.
func TestTFServingGCSCredentials(t *testing.T) {
	gc := goldenCases()["tfserving-gcs"]
	for _, d := range ofKind[appsv1.Deployment](objects(t, gc), "Deployment") {
		ps := d.Spec.Template.Spec
		ctr := ps.Containers[0]
		assert.Empty(t, ctr.EnvFrom, "a key file cannot travel as environment variables")
		var file string
		for _, e := range ctr.Env {
			if e.Name == "GOOGLE_APPLICATION_CREDENTIALS" {
				file = e.Value
			}
		}
		require.NotEmpty(t, file)
		found := false
		for _, m := range ctr.VolumeMounts {
			if !strings.HasPrefix(file, m.MountPath+"/") {
				continue
			}
			for _, v := range ps.Volumes {
				if v.Name == m.Name && v.Secret != nil && v.Secret.SecretName == gc.s.Credentials.Secret {
					for _, it := range v.Secret.Items {
						found = found || (it.Key == gc.s.Credentials.Key && m.MountPath+"/"+it.Path == file)
					}
				}
			}
		}
		assert.True(t, found, "GOOGLE_APPLICATION_CREDENTIALS=%s is not the Secret's key %q", file, gc.s.Credentials.Key)
	}
}

// TestOutlierDetectionSpares1Replica (S5): Envoy ejects at least one
// endpoint, so a track that may run a single replica gets no ejection.
func TestOutlierDetectionSpares1Replica(t *testing.T) {
	for _, min := range []int{1, 2} {
		s := model("kserve", "sklearn")
		s.DeploymentMode = "Standard"
		s.Replicas = ir.ReplicaRange{Min: min, Max: 3}
		drs := ofKind[DestinationRule](objects(t, goldenCase{s: s, production: false}), "DestinationRule")
		require.Len(t, drs, 1)
		assert.Equal(t, min >= 2, drs[0].Spec.TrafficPolicy.OutlierDetection != nil, "min %d", min)
	}
}

// TestRetriesFitTimeout (N6): every attempt of a retried route fits in
// the route's timeout.
func TestRetriesFitTimeout(t *testing.T) {
	for name, gc := range goldenCases() {
		for _, vs := range ofKind[VirtualService](objects(t, gc), "VirtualService") {
			for _, r := range vs.Spec.HTTP {
				if r.Retries == nil || r.Timeout == "" {
					continue
				}
				total, err := time.ParseDuration(r.Timeout)
				require.NoError(t, err)
				require.NotEmpty(t, r.Retries.PerTryTimeout, "%s %s", name, vs.Name)
				per, err := time.ParseDuration(r.Retries.PerTryTimeout)
				require.NoError(t, err)
				assert.LessOrEqual(t, per*time.Duration(r.Retries.Attempts+1), total, "%s %s", name, vs.Name)
			}
		}
	}
	assert.Equal(t, "0.666s", perTryTimeout("2s", 2))
	assert.Equal(t, "1s", perTryTimeout("2s", 1))
	assert.Empty(t, perTryTimeout("", 3))
}

// TestStorageContainerFirst: KServe's webhook refuses a predictor pod
// whose ClusterStorageContainer does not exist yet, so it comes before the
// InferenceServices in apply order (Argo CD, like kiln, applies a wave's
// unknown kinds in kind order: ClusterStorageContainer < InferenceService).
func TestStorageContainerFirst(t *testing.T) {
	items := objects(t, goldenCases()["kserve-serverless"])
	first := map[string]int{}
	for i, it := range items {
		if _, ok := first[it.GVK().Kind]; !ok {
			first[it.GVK().Kind] = i
		}
	}
	require.Contains(t, first, "ClusterStorageContainer")
	assert.Less(t, first["ClusterStorageContainer"], first["InferenceService"])
}

// TestOldModeNames: KServe's deprecated mode names still render, under
// their current names, with a warning at deploymentMode.
func TestOldModeNames(t *testing.T) {
	for old, current := range map[string]string{"RawDeployment": "Standard", "Serverless": "Knative"} {
		s := model("kserve", "sklearn")
		s.DeploymentMode = old
		env := environment("prod", false, 0, map[string]*ir.Serving{"classifier": s})
		env.Sources[ir.Path("serving", "classifier", "deploymentMode")] = diag.Pos{File: specFile, Line: 27, Col: 3}
		res, diags := renderSystem(system(env))
		require.Len(t, diags, 1, "%v", diags)
		d := diags[0]
		assert.Equal(t, diag.Warning, d.Severity)
		assert.Equal(t, "serving.classifier.deploymentMode", d.Path)
		assert.Equal(t, 27, d.Pos.Line)
		assert.Contains(t, d.Msg, old+" is KServe's old name for "+current)
		var modes []string
		for _, o := range res.Environments[0].Items {
			if isvc, ok := o.Object.(*InferenceService); ok {
				modes = append(modes, isvc.Annotations[DeploymentModeAnnotation])
			}
		}
		assert.Equal(t, []string{current}, modes)
	}
}

// kserveRuntimeContainer is the container of the ClusterServingRuntimes
// KServe v0.20.0 ships for PyTorch and XGBoost/sklearn (kserve-torchserve,
// kserve-mlserver in config/runtimes), as far as resources go.
var kserveRuntimeContainer = corev1.Container{
	Name: "kserve-container",
	Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("2Gi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("2Gi")},
	},
}

// TestModelServerResources merges each KServe model container kiln renders
// into a runtime's container as KServe v0.20.0 does (a strategic merge
// patch, pkg/utils/container_merge.go) and checks the result: the
// resources kiln asked for, every request within its limit. Without a CPU
// limit of kiln's the runtime's 1-CPU limit stayed under a 2-CPU request,
// and the API server refused KServe's Deployment (found by make e2e).
func TestModelServerResources(t *testing.T) {
	checked := 0
	for name, gc := range goldenCases() {
		for _, isvc := range ofKind[InferenceService](objects(t, gc), "InferenceService") {
			m := isvc.Spec.Predictor.Model
			if m == nil || m.Resources == nil {
				continue
			}
			base, err := json.Marshal(kserveRuntimeContainer)
			require.NoError(t, err)
			overlay, err := json.Marshal(corev1.Container{Resources: *m.Resources})
			require.NoError(t, err)
			b, err := strategicpatch.StrategicMergePatch(base, overlay, corev1.Container{})
			require.NoError(t, err)
			var merged corev1.Container
			require.NoError(t, json.Unmarshal(b, &merged))
			for res, req := range merged.Resources.Requests {
				if lim, ok := merged.Resources.Limits[res]; ok {
					assert.LessOrEqual(t, req.Cmp(lim), 0, "%s %s: %s request %s above its limit %s", name, isvc.Name, res, req.String(), lim.String())
				}
			}
			for res, want := range m.Resources.Requests {
				got := merged.Resources.Requests[res]
				assert.Zero(t, want.Cmp(got), "%s %s: %s request", name, isvc.Name, res)
			}
			if cpu, ok := m.Resources.Requests[corev1.ResourceCPU]; ok {
				lim := merged.Resources.Limits[corev1.ResourceCPU]
				assert.Zero(t, cpu.Cmp(lim), "%s %s: the model server's CPU is limited at its request, not at the runtime's limit", name, isvc.Name)
				checked++
			}
		}
	}
	assert.NotZero(t, checked, "some golden case has a model server with a CPU request")
}
