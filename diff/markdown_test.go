package diff

import (
	"strings"
	"testing"
)

func annotated(kind, name, entry, rest string) []byte {
	return []byte(header + "apiVersion: v1\nkind: " + kind + "\nmetadata:\n  name: " + name +
		"\n  annotations:\n    kiln.dev/path: '" + entry + "'\n" + rest)
}

// TestMarkdownPicture: the pull-request comment draws one node per affected
// entry per environment, coloured by what happened to its objects, and
// titles an environment with its GPU change.
func TestMarkdownPicture(t *testing.T) {
	gpuPod := func(n string) string {
		return "spec:\n  containers:\n  - name: c\n    resources:\n      limits:\n        nvidia.com/gpu: \"" + n + "\"\n"
	}
	old := map[string][]byte{
		"prod/s/pod-a.yaml":     annotated("Pod", "a", "serving.classifier", gpuPod("1")),
		"prod/s/svc-a.yaml":     annotated("Service", "a", "serving.classifier", ""),
		"prod/s/cm-gone.yaml":   annotated("ConfigMap", "gone", `sweeps."old-tune"`, ""),
		"dev/s/cm-same.yaml":    annotated("ConfigMap", "same", "pipelines.retrain", ""),
		"prod/s/namespace.yaml": []byte(header + "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml\n"),
	}
	new := map[string][]byte{
		"prod/s/pod-a.yaml":      annotated("Pod", "a", "serving.classifier", gpuPod("2")),
		"prod/s/svc-a.yaml":      annotated("Service", "a", "serving.classifier", ""),
		"prod/s/pod-canary.yaml": annotated("Pod", "canary", "serving.classifier.canary", ""),
		"dev/s/cm-same.yaml":     annotated("ConfigMap", "same", "pipelines.retrain", ""),
		"dev/s/wt.yaml":          annotated("WorkflowTemplate", "retrain", "pipelines.retrain.schedule", ""),
		"prod/s/namespace.yaml":  []byte(header + "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml\n  labels:\n    a: b\n"),
	}
	got := Compare(old, new).Markdown("kiln diff: s")
	for _, want := range []string{
		"### kiln diff: s\n\n```mermaid\nflowchart LR\n",
		`  subgraph env0["dev"]` + "\n" + `    n0["pipelines.retrain<br/><small>1 added</small>"]` + "\n  end\n",
		`  subgraph env1["prod · nvidia.com/gpu 1 → 2 (+1)"]` + "\n",
		`    n1["Namespace ml<br/><small>1 changed</small>"]`,
		`    n2["serving.classifier<br/><small>1 added · 1 changed</small>"]`,
		`    n3["sweeps.#quot;old-tune#quot;<br/><small>1 removed</small>"]`,
		"  class n0 added\n",
		"  class n1,n2 changed\n",
		"  class n3 removed\n",
		"```\n\n```\n5 files differ; objects: 2 added, 2 changed, 1 removed\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("comment lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "svc-a") || strings.Contains(got, "@@") {
		t.Errorf("comment shows an unchanged object or the unified diff:\n%s", got)
	}

	if got := Compare(old, old).Markdown("t"); strings.Contains(got, "mermaid") || !strings.Contains(got, "No changes.") {
		t.Errorf("comment on no changes:\n%s", got)
	}
}
