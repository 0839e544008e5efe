package render_test

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/render"
)

// cyclicKeys are map keys go-yaml v2's comparator (digits compare as
// numbers, letters after everything else) orders in a cycle: "9" < "10"
// < "1a" < "9". go-yaml sorts a map's keys in Go's random iteration
// order, so on its own it writes such maps in different orders from run
// to run. Users choose such keys: labels, annotations, ConfigMap data.
var cyclicKeys = []string{"1", "1a", "9", "10", "a", "1e-4", "a9", "a10"}

func cyclicConfigMap() *corev1.ConfigMap {
	m := map[string]string{}
	for _, k := range cyclicKeys {
		m[k] = "v"
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "params", Labels: m, Annotations: m},
		Data:       m,
	}
}

// TestMarshalKeyOrderIsDeterministic proves that Marshal writes the same
// bytes every time for maps whose keys go-yaml cannot order consistently,
// each time from freshly built maps.
func TestMarshalKeyOrderIsDeterministic(t *testing.T) {
	first, err := render.Marshal(cyclicConfigMap())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		got, err := render.Marshal(cyclicConfigMap())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(first) {
			t.Fatalf("run %d wrote\n%s\nrun 0 wrote\n%s", i+1, got, first)
		}
	}
}

// TestFilesKeyOrderIsDeterministic is the same through the files kiln
// writes and the stream of render --stdout.
func TestFilesKeyOrderIsDeterministic(t *testing.T) {
	render1 := func() (map[string][]byte, []byte) {
		res := &render.Result{Environments: []render.Environment{{
			Name: "dev", Dir: "dev/sys",
			Items: []render.Item{{Object: cyclicConfigMap()}, {Object: cyclicConfigMap()}},
		}}}
		res.Environments[0].Items[1].Object.SetName("params2")
		files, err := render.Files(res)
		if err != nil {
			t.Fatal(err)
		}
		var stream bytes.Buffer
		if err := render.Stream(&stream, res); err != nil {
			t.Fatal(err)
		}
		return files, stream.Bytes()
	}
	files0, stream0 := render1()
	for i := range 100 {
		files, stream := render1()
		for p, b := range files0 {
			if string(files[p]) != string(b) {
				t.Fatalf("run %d wrote %s as\n%s\nrun 0 wrote\n%s", i+1, p, files[p], b)
			}
		}
		if string(stream) != string(stream0) {
			t.Fatalf("run %d streamed\n%s\nrun 0 streamed\n%s", i+1, stream, stream0)
		}
	}
}
