package render_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kiln-ml/kiln/render"
)

// TestTakeFilesIsFiles checks that TakeFiles and EmitFiles give exactly
// Files' bytes, EmitFiles each path once, and drop every object they
// encoded.
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
	emitted := result()
	var mu sync.Mutex
	put := map[string][]byte{}
	err = render.EmitFiles(emitted, func(p string, data []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := put[p]; dup {
			t.Errorf("%s put twice", p)
		}
		put[p] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(put, want, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Errorf("EmitFiles put\n%q\nFiles wrote\n%q", put, want)
	}
	for _, r := range []*render.Result{res, emitted} {
		for _, items := range [][]render.Item{r.Environments[0].Items, r.Environments[1].Items, r.Dirs[0].Items} {
			for i, it := range items {
				if it.Object != nil {
					t.Errorf("item %d (%s) still holds its object", i, it.Object.GetName())
				}
			}
		}
	}
}

// EmitFiles checks every path before it encodes anything, and stops at
// the first file put fails on.
func TestEmitFilesErrors(t *testing.T) {
	cm := func(name string) render.Item {
		return render.Item{Object: &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
		}}
	}
	called := false
	err := render.EmitFiles(&render.Result{Environments: []render.Environment{
		{Name: "dev", Dir: "dev/sys", Items: []render.Item{cm("a"), cm("b")}},
		{Name: "prod", Dir: "prod/sys", Items: []render.Item{cm("a"), cm("a")}},
	}}, func(string, []byte) error { called = true; return nil })
	if err == nil || err.Error() != "two objects would be written to prod/sys/configmap-a.yaml; rename one of them" {
		t.Errorf("err = %v, want the path taken twice", err)
	}
	if called {
		t.Error("a file was put before the paths were checked")
	}

	items := make([]render.Item, 100)
	for i := range items {
		items[i] = cm(fmt.Sprintf("m%d", i))
	}
	boom := errors.New("disk full")
	n := 0
	var mu sync.Mutex
	err = render.EmitFiles(&render.Result{Environments: []render.Environment{{Name: "dev", Dir: "dev/sys", Items: items}}}, func(string, []byte) error {
		mu.Lock()
		defer mu.Unlock()
		n++
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want put's", err)
	}
	if n > runtime.GOMAXPROCS(0) {
		t.Errorf("%d files put after put failed", n-1)
	}
}

// Stream is the files of the environments joined in order, each headed by
// its path, drops each object once encoded, and writes nothing when an
// object fails to encode.
func TestStream(t *testing.T) {
	cm := func(name string, data map[string]string) render.Item {
		return render.Item{Object: &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
			Data:       data,
		}}
	}
	result := func() *render.Result {
		var items []render.Item
		for i := range 50 {
			items = append(items, cm(fmt.Sprintf("c%02d", i), map[string]string{"i": fmt.Sprint(i)}))
		}
		return &render.Result{
			Environments: []render.Environment{
				{Name: "dev", Dir: "dev/sys", Items: items},
				{Name: "prod", Dir: "prod/sys", Items: []render.Item{cm("a", nil)}},
			},
			Dirs: []render.Directory{{Dir: "argocd/sys", Items: []render.Item{cm("app", nil)}}},
		}
	}
	files, err := render.Files(result())
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, env := range result().Environments {
		for _, it := range env.Items {
			p := env.Dir + "/" + render.FileName(it)
			want.WriteString("---\n# Source: " + p + "\n")
			want.WriteString(strings.TrimPrefix(string(files[p]), render.Header))
		}
	}
	res := result()
	var got bytes.Buffer
	if err := render.Stream(&got, res); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("Stream wrote\n%s\nwant\n%s", got.String(), want.String())
	}
	for _, env := range res.Environments {
		for i, it := range env.Items {
			if it.Object != nil {
				t.Errorf("%s item %d still holds its object", env.Name, i)
			}
		}
	}

	bad := result()
	bad.Environments[1].Items = append(bad.Environments[1].Items, render.Item{Object: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "bad"}, "data": map[string]any{"f": func() {}},
	}}})
	got.Reset()
	if err := render.Stream(&got, bad); err == nil {
		t.Error("an object that cannot be encoded: no error")
	}
	if got.Len() != 0 {
		t.Errorf("a failed stream wrote %d bytes", got.Len())
	}
}
