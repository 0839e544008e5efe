package cli

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// TestCheckObjectsRestricted: a pod that breaks Pod Security restricted
// fails check at its spec entry, unless the renderer built it for
// baseline (its entry asked for it).
func TestCheckObjectsRestricted(t *testing.T) {
	pod := func() *corev1.Pod {
		return &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ml"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}
	}
	for _, profile := range []string{"restricted", "baseline"} {
		sec := ir.Security{Profile: profile}
		env := &ir.Environment{Name: "dev", Spec: &ir.Spec{Notebooks: map[string]*ir.Notebook{"nb": {Security: sec}}}}
		res := &render.Result{
			System: &ir.System{Name: "demo", Environments: []*ir.Environment{env}},
			Environments: []render.Environment{{Name: "dev", Dir: "dev/demo", Items: []render.Item{{
				Object: pod(),
				Origin: render.Origin{Path: "notebooks.nb", Pos: diag.Pos{File: "spec.cue", Line: 3, Col: 2}, PodSecurity: render.PodSecurityOf(sec)},
			}}}},
		}
		files, err := render.Files(res)
		if err != nil {
			t.Fatal(err)
		}
		diags, n, _ := checkObjects(res, files, nil)
		if n != 1 {
			t.Errorf("%s: %d objects checked, want 1 (kustomization.yaml is not one)", profile, n)
		}
		got := diags.Error()
		if profile == "baseline" {
			if got != "" {
				t.Errorf("baseline entry: %s", got)
			}
			continue
		}
		if !strings.HasPrefix(got, "spec.cue:3:2: notebooks.nb: Pod p (dev/demo/pod-p.yaml): Pod Security restricted: ") || !diags.HasErrors() {
			t.Errorf("restricted entry:\n%s", got)
		}
	}
}
