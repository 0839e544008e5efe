//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/render/rendertest"
)

// renderExample runs `kiln render` on a bundled example into a temporary
// directory and returns it (<dir>/<env>/<system>/*.yaml).
func renderExample(t *testing.T, example string) string {
	t.Helper()
	return renderSpec(t, filepath.Join(repoRoot(), "examples", example))
}

// renderSpec runs `kiln render` on a spec directory, likewise.
func renderSpec(t *testing.T, spec string) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command(cl.kiln, "render", "--out", out, spec)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kiln render %s: %v\n%s", spec, err, b)
	}
	return out
}

// envObjects reads the objects kiln rendered for one environment.
func envObjects(t *testing.T, out, env, system string) []*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(out, env, system, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rendered files for %s/%s in %s", env, system, out)
	}
	sort.Strings(files)
	var objs []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range splitYAML(b) {
			var o unstructured.Unstructured
			if err := yaml.Unmarshal(doc, &o.Object); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(o.Object) > 0 {
				objs = append(objs, &o)
			}
		}
	}
	return objs
}

// find returns the object of a kind and name.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("kiln rendered no %s %s", kind, name)
	return nil
}

// applyEnv applies an environment's objects as Argo CD would (Namespace
// first), skipping the kinds this cluster does not serve (Istio, KServe,
// Katib, notebooks: their controllers are not part of this suite), and
// deletes the namespace when the test ends. It returns the namespace.
func applyEnv(t *testing.T, objs []*unstructured.Unstructured, skipKinds ...string) string {
	t.Helper()
	ctx := context.Background()
	var ns string
	sorted := append([]*unstructured.Unstructured(nil), objs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return sorted[i].GetKind() == "Namespace" && sorted[j].GetKind() != "Namespace"
	})
	var skipped []string
	for _, o := range sorted {
		if o.GetKind() == "Namespace" {
			ns = o.GetName()
		}
		skip := false
		for _, k := range skipKinds {
			skip = skip || o.GetKind() == k
		}
		if _, err := cl.resource(o); err != nil || skip {
			skipped = append(skipped, o.GetKind()+"/"+o.GetName())
			continue
		}
		if err := cl.apply(ctx, o.DeepCopy()); err != nil {
			t.Fatalf("applying %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	t.Logf("applied %d objects to namespace %s; not served here (skipped): %s", len(objs)-len(skipped), ns, strings.Join(skipped, ", "))
	t.Cleanup(func() { deleteNamespace(t, ns) })
	return ns
}

func deleteNamespace(t *testing.T, ns string) {
	ctx := context.Background()
	if err := ignoreNotFound(cl.kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})); err != nil {
		t.Errorf("deleting namespace %s: %v", ns, err)
		return
	}
	if err := cl.waitFor(ctx, 3*time.Minute, "namespace "+ns+" to be deleted", func() (bool, error) {
		_, err := cl.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Errorf("%v", err)
	}
}

var argoExpr = regexp.MustCompile(`\{\{[^}]*\}\}`)

// substitute replaces Argo expressions in a manifest as the controller
// would for one run: the given values, put in by Argo's own substitution
// code (expression tags such as the jobs' names included), then a
// placeholder for the rest.
func substitute(t *testing.T, manifest string, values map[string]string) string {
	t.Helper()
	return argoExpr.ReplaceAllString(rendertest.Substitute(t, manifest, values), "e2e")
}

// resourceTemplate returns the manifest of the WorkflowTemplate's
// template that creates an object of kind.
func resourceTemplate(t *testing.T, wt *unstructured.Unstructured, kind string) (name, manifest string) {
	t.Helper()
	tmpls, _, _ := unstructured.NestedSlice(wt.Object, "spec", "templates")
	for _, e := range tmpls {
		tm, _ := e.(map[string]any)
		action, _, _ := unstructured.NestedString(tm, "resource", "action")
		m, _, _ := unstructured.NestedString(tm, "resource", "manifest")
		if (action == "create" || action == "apply") && strings.Contains(m, "\nkind: "+kind+"\n") {
			n, _ := tm["name"].(string)
			return n, m
		}
	}
	t.Fatalf("WorkflowTemplate %s has no template that creates a %s", wt.GetName(), kind)
	return "", ""
}

func decode(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	var o unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(manifest), &o.Object); err != nil {
		t.Fatalf("decoding manifest: %v\n%s", err, manifest)
	}
	return &o
}

// conditionOf returns the status and message of an object's condition.
func conditionOf(o *unstructured.Unstructured, typ string) (status, message string) {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, e := range conds {
		c, _ := e.(map[string]any)
		if c["type"] == typ {
			s, _ := c["status"].(string)
			m, _ := c["message"].(string)
			return s, m
		}
	}
	return "", ""
}

// waitCondition waits until one of the conditions is True and returns it.
func waitCondition(t *testing.T, o *unstructured.Unstructured, timeout time.Duration, types ...string) (string, *unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	ri, err := cl.resource(o)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	var cur *unstructured.Unstructured
	err = cl.waitFor(ctx, timeout, fmt.Sprintf("%s %s to be %s", o.GetKind(), o.GetName(), strings.Join(types, " or ")), func() (bool, error) {
		cur, err = ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, typ := range types {
			if s, _ := conditionOf(cur, typ); s == "True" {
				got = typ
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, eventsFor(o.GetNamespace(), o.GetName()))
	}
	return got, cur
}

// eventsFor lists the events about an object (and the objects named after
// it, such as its pods), as the cluster reported them.
func eventsFor(ns, name string) string {
	list, err := cl.kube.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return "events: " + err.Error()
	}
	var lines []string
	for _, e := range list.Items {
		if strings.HasPrefix(e.InvolvedObject.Name, name) {
			lines = append(lines, fmt.Sprintf("  %s %s/%s: %s: %s", e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message))
		}
	}
	sort.Strings(lines)
	return "events:\n" + strings.Join(lines, "\n")
}

// podsOf lists the pods with a label.
func podsOf(t *testing.T, ns, selector string) []corev1.Pod {
	t.Helper()
	list, err := cl.kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func nodeProduct(t *testing.T, name string) string {
	t.Helper()
	n, err := cl.kube.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("node %q: %v", name, err)
	}
	return n.Labels["nvidia.com/gpu.product"]
}
