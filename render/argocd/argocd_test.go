package argocd_test

import (
	"context"
	"flag"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argocd"
	"github.com/kiln-ml/kiln/render/rendertest"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// crdValidator is the validator with the upstream CRDs, loaded once.
func crdValidator(t *testing.T) *validate.Validator { return validatetest.CRDs(t) }

// renderSpec compiles and renders a spec of testdata/specs with every
// built-in renderer.
func renderSpec(t *testing.T, name string) (*render.Result, diag.List) {
	t.Helper()
	dir := filepath.Join("testdata", "specs", name)
	sys, diags := compiler.Compile(context.Background(), dir, compiler.Options{})
	if diags.HasErrors() {
		return nil, diags
	}
	return render.Render(context.Background(), sys, render.Options{Renderers: plugins.Builtins()})
}

// argoFiles returns the files of the system's Argo CD directory.
func argoFiles(t *testing.T, res *render.Result) map[string][]byte {
	t.Helper()
	files, err := render.Files(res)
	require.NoError(t, err)
	out := map[string][]byte{}
	prefix := argocd.Dir + "/" + res.System.Name + "/"
	for p, b := range files {
		if strings.HasPrefix(p, prefix) {
			out[strings.TrimPrefix(p, prefix)] = b
		}
	}
	return out
}

// TestGolden compares the Argo CD directory of each test spec with
// testdata/golden/<spec>; go test ./render/argocd -update rewrites them.
func TestGolden(t *testing.T) {
	names := []string{"plain", "hydrator"}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			res, diags := renderSpec(t, name)
			require.False(t, diags.HasErrors(), "%v", diags)
			rendertest.GoldenDir(t, filepath.Join("testdata", "golden", name), argoFiles(t, res), *update)
		})
	}
	rendertest.OnlyGoldens(t, filepath.Join("testdata", "golden"), names, *update)
}

// TestObjectsValidate checks every Argo CD object against the Argo CD CRDs
// (and the health patch as a core ConfigMap).
func TestObjectsValidate(t *testing.T) {
	v := crdValidator(t)
	for _, name := range []string{"plain", "hydrator"} {
		res, diags := renderSpec(t, name)
		require.False(t, diags.HasErrors(), "%v", diags)
		files := argoFiles(t, res)
		require.NotEmpty(t, files)
		for _, p := range slices.Sorted(maps.Keys(files)) {
			if p == render.KustomizationFile {
				continue
			}
			t.Run(name+"/"+p, func(t *testing.T) {
				for _, problem := range v.Validate(files[p]) {
					t.Error(problem)
				}
			})
		}
	}
}

// TestBrokenValidationIsCaught makes sure the CRD check above can fail: an
// Application with an unknown source field and a namespace of the wrong
// type is refused.
func TestBrokenValidationIsCaught(t *testing.T) {
	v := crdValidator(t)
	doc := []byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: x, namespace: argocd}
spec:
  project: x
  destination: {server: https://kubernetes.default.svc, namespace: 3}
  source: {repoURL: https://x.example/r.git, path: deploy, sourceDirectory: true}
`)
	require.NotEmpty(t, v.Validate(doc))
}

// TestProject checks what the AppProject allows: exactly the kinds
// rendered, split by scope, and every environment's destination.
func TestProject(t *testing.T) {
	res, diags := renderSpec(t, "plain")
	require.False(t, diags.HasErrors(), "%v", diags)
	p := argocd.NewProject(res.System, res.Environments)
	require.Equal(t, "ml-demo", p.Name)
	require.Equal(t, []argocd.GroupKind{{Group: "", Kind: "Namespace"}}, p.Spec.ClusterResourceWhitelist)
	var kinds []string
	for _, gk := range p.Spec.NamespaceResourceWhitelist {
		kinds = append(kinds, gk.Group+"/"+gk.Kind)
	}
	require.Equal(t, []string{
		"/ConfigMap", "/ResourceQuota", "/Service", "/ServiceAccount",
		"apps/Deployment", "autoscaling/HorizontalPodAutoscaler",
		"kubeflow.org/TFJob", "kubeflow.org/XGBoostJob",
		"networking.istio.io/DestinationRule", "security.istio.io/PeerAuthentication",
	}, kinds)
	require.Equal(t, []argocd.Destination{
		{Server: "", Name: "prod-eu", Namespace: "demo-ml"},
		{Server: "https://kubernetes.default.svc", Namespace: "demo-ml"},
		{Server: "https://kubernetes.default.svc", Namespace: "demo-staging"},
	}, p.Spec.Destinations)
	require.Equal(t, []string{"git@github.com:acme/config.git", "https://github.com/acme/charts.git"}, p.Spec.SourceRepos)
}

// TestAutoscaledReplicas: the replica count of what an autoscaler scales
// is the autoscaler's, and only of that object.
func TestAutoscaledReplicas(t *testing.T) {
	res, diags := renderSpec(t, "plain")
	require.False(t, diags.HasErrors(), "%v", diags)
	kinds, err := render.NewKinds(plugins.Builtins()...)
	require.NoError(t, err)
	app := argocd.NewApplication(res.System, kinds, res.System.Environments[0], res.Environments[0])
	var got []argocd.IgnoreDifferences
	for _, d := range app.Spec.IgnoreDifferences {
		if d.Kind == "Deployment" {
			got = append(got, d)
		}
	}
	require.Equal(t, []argocd.IgnoreDifferences{{Group: "apps", Kind: "Deployment", Name: "tf", JSONPointers: []string{"/spec/replicas"}}}, got)
}

// TestSharedDestination reports two environments in one namespace of one
// cluster.
func TestSharedDestination(t *testing.T) {
	sys, diags := compiler.Compile(context.Background(), "/virtual/spec", compiler.Options{Overlay: map[string][]byte{"spec.cue": []byte(`package x
name: "x"
namespace: "x"
gitops: repoURL: "https://git.example/x.git"
environments: {a: {}, b: {}}
`)}})
	require.False(t, diags.HasErrors(), "%v", diags)
	_, diags = render.Render(context.Background(), sys, render.Options{Renderers: plugins.Builtins()})
	require.True(t, diags.HasErrors())
	require.Contains(t, diags.Error(), `environments a and b both deploy to namespace "x" of cluster https://kubernetes.default.svc`)
	require.Equal(t, "environments.b", diags[0].Path)
}

// TestPartialRenderHasNoArgoCD: objects describing every environment are
// not drawn from some of them.
func TestPartialRenderHasNoArgoCD(t *testing.T) {
	sys, diags := compiler.Compile(context.Background(), filepath.Join("testdata", "specs", "plain"), compiler.Options{Environments: []string{"dev"}})
	require.False(t, diags.HasErrors(), "%v", diags)
	res, diags := render.Render(context.Background(), sys, render.Options{Renderers: plugins.Builtins(), Partial: true})
	require.False(t, diags.HasErrors(), "%v", diags)
	require.Empty(t, res.Dirs)
}
