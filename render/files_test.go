package render_test

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/render"
)

// TestTakeFilesIsFiles checks that TakeFiles writes exactly Files' bytes
// and drops every object it encoded.
func TestTakeFilesIsFiles(t *testing.T) {
	result := func() *render.Result {
		cm := func(name string) render.Item {
			return render.Item{Object: &corev1.ConfigMap{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
				Data:       map[string]string{"script": "#!/bin/sh\necho " + name + "\n", "n": "10"},
			}}
		}
		return &render.Result{
			Environments: []render.Environment{
				{Name: "dev", Dir: "dev/sys", Items: []render.Item{cm("a"), cm("b"), cm("c")}},
				{Name: "prod", Dir: "prod/sys", Items: []render.Item{cm("a")}},
			},
			Dirs: []render.Directory{{Dir: "argocd/sys", Items: []render.Item{cm("app")}, Files: map[string][]byte{"extra.yaml": []byte("x: 1\n")}}},
		}
	}
	want, err := render.Files(result())
	if err != nil {
		t.Fatal(err)
	}
	res := result()
	got, err := render.TakeFiles(res)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(got, want, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Errorf("TakeFiles wrote\n%q\nFiles wrote\n%q", got, want)
	}
	if len(got) != 9 {
		t.Errorf("got %d files, want 5 objects, 3 kustomization.yaml and extra.yaml", len(got))
	}
	for _, items := range [][]render.Item{res.Environments[0].Items, res.Environments[1].Items, res.Dirs[0].Items} {
		for i, it := range items {
			if it.Object != nil {
				t.Errorf("item %d (%s) still holds its object", i, it.Object.GetName())
			}
		}
	}
}
