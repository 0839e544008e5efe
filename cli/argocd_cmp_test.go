package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/render/kustomize"
)

// cmpDir is the Argo CD config management plugin's directory.
func cmpDir(t *testing.T) string { return filepath.Join(repoRoot(t), "contrib", "argocd-cmp") }

func readCMP(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cmpDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCMPGenerate runs the plugin's generate command as Argo CD's
// cmp-server would: through sh, in the spec directory, with the
// Application's env prefixed ARGOCD_ENV_. (testscript.Main puts kiln on
// PATH for this test binary.)
func TestCMPGenerate(t *testing.T) {
	var plugin struct {
		Spec struct {
			Generate struct {
				Command []string `json:"command"`
				Args    []string `json:"args"`
			} `json:"generate"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(readCMP(t, "plugin.yaml"), &plugin); err != nil {
		t.Fatal(err)
	}
	g := plugin.Spec.Generate
	if len(g.Command) == 0 {
		t.Fatal("plugin.yaml has no generate command")
	}
	run := func(env ...string) (string, string, error) {
		argv := append(append([]string{}, g.Command...), g.Args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = filepath.Join(repoRoot(t), "examples", "skin-lesion")
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	out, errOut, err := run("ARGOCD_ENV_KILN_ENVIRONMENT=prod")
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, errOut)
	}
	if !strings.HasPrefix(out, "---\n# Source: prod/skin-lesion/namespace-derm-ml.yaml\n") || strings.Contains(out, "dev/skin-lesion") {
		t.Errorf("generate did not render prod alone:\n%.400s", out)
	}
	if strings.Contains(out, "kind: Application") || strings.Contains(out, "kind: AppProject") {
		t.Error("generate rendered Argo CD objects; an Application must not sync Applications")
	}
	if _, errOut, err := run(); err == nil || !strings.Contains(errOut, "KILN_ENVIRONMENT") {
		t.Errorf("generate without KILN_ENVIRONMENT: err %v, stderr %q; want a failure naming the variable", err, errOut)
	}
}

// TestCMPInstall builds the plugin's kustomization (the ConfigMap), applies
// the repo-server patch to a repo server shaped like Argo CD's, and checks
// the results and the example Application as the API server would.
func TestCMPInstall(t *testing.T) {
	v := crds(t)
	files := map[string][]byte{}
	for _, name := range []string{"kustomization.yaml", "plugin.yaml", "repo-server-patch.yaml"} {
		files["cmp/"+name] = readCMP(t, name)
	}
	m, err := kustomize.Build(files, "cmp")
	if err != nil {
		t.Fatalf("kustomize build contrib/argocd-cmp: %v", err)
	}
	if m.Size() != 1 {
		t.Fatalf("kustomize build contrib/argocd-cmp: %d objects, want the ConfigMap", m.Size())
	}
	cm := m.Resources()[0]
	if cm.GetKind() != "ConfigMap" || cm.GetName() != "kiln-cmp-plugin" || cm.GetNamespace() != "argocd" {
		t.Fatalf("got %s %s/%s", cm.GetKind(), cm.GetNamespace(), cm.GetName())
	}
	if data := cm.GetDataMap()["plugin.yaml"]; data != string(files["cmp/plugin.yaml"]) {
		t.Errorf("the ConfigMap does not hold plugin.yaml")
	}

	// The patch, onto a repo server with the volumes Argo CD's has.
	files["repo/deployment.yaml"] = []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: argocd-repo-server}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: argocd-repo-server}}
  template:
    metadata: {labels: {app.kubernetes.io/name: argocd-repo-server}}
    spec:
      containers:
      - {name: argocd-repo-server, image: quay.io/argoproj/argocd:v3.5.1}
      volumes:
      - {name: var-files, emptyDir: {}}
      - {name: plugins, emptyDir: {}}
`)
	files["repo/patch.yaml"] = files["cmp/repo-server-patch.yaml"]
	files["repo/kustomization.yaml"] = []byte("namespace: argocd\nresources: [deployment.yaml]\npatches: [{path: patch.yaml}]\n")
	m, err = kustomize.Build(files, "repo")
	if err != nil {
		t.Fatalf("patching the repo server: %v", err)
	}
	doc, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: kiln\n", "/var/run/argocd/argocd-cmp-server", "name: argocd-repo-server\n"} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("patched repo server lacks %q:\n%s", want, doc)
		}
	}
	for _, problem := range v.Validate(doc) {
		t.Errorf("patched repo server: %s", problem)
	}
	for _, problem := range v.Validate(readCMP(t, "application.yaml")) {
		t.Errorf("application.yaml: %s", problem)
	}
}
