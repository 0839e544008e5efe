package validate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/cli"
	"github.com/kiln-ml/kiln/validate"
)

// documentedCluster is the cluster the README's "What the cluster needs"
// asks for: every controller as installed, with no setting changed. kiln
// patches Argo's executors, names its own ClusterStorageContainer for
// KServe's storage initializer (see inEnv), and namespaces with Katib or
// Seldon enforce baseline.
var documentedCluster = validate.Cluster{}

// restrictedSC is the securityContext restricted asks of a container.
var restrictedSC = map[string]any{
	"runAsNonRoot": true, "allowPrivilegeEscalation": false,
	"capabilities": map[string]any{"drop": []any{"ALL"}}, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
}

// inEnv is documentedCluster with the objects an environment's output
// installs (KServe ClusterStorageContainers).
func inEnv(files map[string][]byte) validate.Cluster {
	var docs [][]byte
	for _, name := range slices.Sorted(mapsKeys(files)) {
		docs = append(docs, files[name])
	}
	return documentedCluster.WithObjects(docs...)
}

// renderExamples renders every bundled example and returns its files by
// environment directory (<example>/<env>/<system>), then by file name.
func renderExamples(t *testing.T) map[string]map[string][]byte {
	t.Helper()
	specs, _ := filepath.Glob(filepath.Join(repoRoot(t), "examples", "*", "system.cue"))
	require.GreaterOrEqual(t, len(specs), 2, "the bundled examples")
	return renderSpecs(t, specs)
}

func renderSpecs(t *testing.T, specs []string) map[string]map[string][]byte {
	t.Helper()
	out := map[string]map[string][]byte{}
	for _, spec := range specs {
		name := filepath.Base(filepath.Dir(spec))
		dir := t.TempDir()
		var stderr bytes.Buffer
		if code := cli.Run(context.Background(), []string{"render", "--out", dir, filepath.Dir(spec)}, &stderr, &stderr); code != 0 {
			t.Fatalf("render %s: exit %d: %s", name, code, stderr.String())
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*.yaml"))
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f)
			envDir := name + "/" + filepath.ToSlash(filepath.Dir(rel))
			if strings.HasPrefix(envDir, name+"/argocd/") || filepath.Base(f) == "kustomization.yaml" {
				continue
			}
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			if out[envDir] == nil {
				out[envDir] = map[string][]byte{}
			}
			out[envDir][filepath.Base(f)] = b
		}
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found")
		dir = parent
	}
}

func kindOf(t *testing.T, doc []byte) string {
	var m struct{ Kind string }
	require.NoError(t, yaml.Unmarshal(doc, &m))
	return m.Kind
}

// TestExamplePodsMeetNamespaceLevel holds every pod the examples lead to,
// with the containers Argo, KServe, Katib and Seldon add at run time, to
// the Pod Security level its namespace enforces.
func TestExamplePodsMeetNamespaceLevel(t *testing.T) {
	for envDir, files := range renderExamples(t) {
		var level string
		for _, b := range files {
			if kindOf(t, b) == "Namespace" {
				var ns corev1.Namespace
				require.NoError(t, yaml.Unmarshal(b, &ns))
				level = ns.Labels["pod-security.kubernetes.io/enforce"]
			}
		}
		require.NotEmpty(t, level, envDir)
		cl := inEnv(files)
		for _, name := range slices.Sorted(mapsKeys(files)) {
			for _, v := range validate.PodViolations(files[name], level, cl) {
				t.Errorf("%s/%s: Pod Security %s: %s", envDir, name, level, v)
			}
		}
	}
}

// TestExamplePodsRequestWhatTheQuotaCovers: where an environment's quota
// covers CPU or memory, every container kiln writes and every executor
// container Argo adds requests them, and a LimitRange gives a default
// request to the containers the other controllers add.
func TestExamplePodsRequestWhatTheQuotaCovers(t *testing.T) {
	quotas := 0
	for envDir, files := range renderExamples(t) {
		var covered, defaulted []string
		for _, b := range files {
			switch kindOf(t, b) {
			case "ResourceQuota":
				var q corev1.ResourceQuota
				require.NoError(t, yaml.Unmarshal(b, &q))
				for _, r := range []string{"cpu", "memory"} {
					if _, ok := q.Spec.Hard[corev1.ResourceName("requests."+r)]; ok {
						covered = append(covered, r)
					}
				}
			case "LimitRange":
				var lr corev1.LimitRange
				require.NoError(t, yaml.Unmarshal(b, &lr))
				for _, item := range lr.Spec.Limits {
					if item.Type == corev1.LimitTypeContainer {
						for r := range item.DefaultRequest {
							defaulted = append(defaulted, string(r))
						}
					}
				}
			}
		}
		if len(covered) == 0 {
			continue
		}
		quotas++
		for _, r := range covered {
			assert.Contains(t, defaulted, r, "%s: a LimitRange defaults the %s request", envDir, r)
		}
		cl := inEnv(files)
		for _, name := range slices.Sorted(mapsKeys(files)) {
			for _, v := range validate.MissingRequests(files[name], covered, cl) {
				if strings.Contains(v, ", added by ") && !strings.Contains(v, ", added by Argo") {
					continue // the LimitRange covers these
				}
				t.Errorf("%s/%s: %s", envDir, name, v)
			}
		}
	}
	assert.Positive(t, quotas, "an example sets a CPU/memory quota")
}

// With katib.restricted, a spec tells kiln that katib-config secures
// Katib's containers: fraud-detect's namespaces (whose Katib sweep does not
// stop early) then enforce restricted, and the pods pass it exactly when
// the cluster is configured so.
func TestKatibRestrictedExample(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "fraud-detect", "system.cue"))
	require.NoError(t, err)
	spec := strings.Replace(string(src), "\ttraining: xgb:", "\tkatib: restricted: true\n\n\ttraining: xgb:", 1)
	require.NotEqual(t, string(src), spec)
	dir := filepath.Join(t.TempDir(), "fraud-detect")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "system.cue"), []byte(spec), 0o644))

	configured := documentedCluster
	configured.KatibInjectSecurityContext = true
	configured.KatibSuggestionSecurityContext = restrictedSC
	experiments := 0
	for envDir, files := range renderSpecs(t, []string{filepath.Join(dir, "system.cue")}) {
		for name, b := range files {
			switch kindOf(t, b) {
			case "Namespace":
				assert.Contains(t, string(b), "pod-security.kubernetes.io/enforce: restricted", envDir)
			case "Experiment":
				experiments++
				assert.Empty(t, validate.PodViolations(b, "restricted", configured), "%s/%s", envDir, name)
				assert.NotEmpty(t, validate.PodViolations(b, "restricted", documentedCluster), "%s/%s: a stock katib-config", envDir, name)
			}
		}
	}
	assert.Positive(t, experiments)
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
