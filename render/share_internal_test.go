package render

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sharedResult is three environments as overrides make them: dev; staging,
// where b's data is overridden; prod, where b is as in staging, c as in
// dev, and d exists only there. A Secret named a is another object than
// the ConfigMap a.
func sharedResult() *Result {
	cm := func(name, ns, data string) Item {
		return Item{Object: &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
			Data:       map[string]string{"v": data},
		}}
	}
	secret := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"},
		StringData: map[string]string{"v": "1"},
	}
	return &Result{Environments: []Environment{
		{Name: "dev", Dir: "dev/sys", Items: []Item{cm("a", "ns", "1"), cm("b", "ns", "1"), cm("c", "ns", "1")}},
		{Name: "staging", Dir: "staging/sys", Items: []Item{cm("a", "ns", "1"), cm("b", "ns", "2"), cm("c", "other", "1"), {Object: secret}}},
		{Name: "prod", Dir: "prod/sys", Items: []Item{cm("a", "ns", "1"), cm("b", "ns", "2"), cm("c", "ns", "1"), cm("d", "ns", "1")}},
	}}
}

// TestSameAsEarlier checks which objects are taken for those of an
// earlier environment: equal ones of the same kind, namespace and name,
// the first environment that has that version.
func TestSameAsEarlier(t *testing.T) {
	got := sameAsEarlier(sharedResult().Environments)
	want := [][]int{
		{-1, -1, -1},
		// b differs; c is in another namespace; the Secret is another kind.
		{0, -1, -1, -1},
		// b is staging's version; c dev's (not staging's, in another
		// namespace); d is new.
		{0, 1, 0, -1},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("sameAsEarlier = %v, want %v", got, want)
	}
}

// TestFilesOfSharedObjects checks that every file of an object shared
// with an earlier environment is that object's own encoding, and that
// it was not encoded again: it holds the earlier file's bytes.
func TestFilesOfSharedObjects(t *testing.T) {
	for _, take := range []bool{false, true} {
		res := sharedResult()
		want := map[string]string{}
		for _, env := range res.Environments {
			for _, it := range env.Items {
				b, err := Marshal(it.Object)
				if err != nil {
					t.Fatal(err)
				}
				want[env.Dir+"/"+FileName(it)] = Header + string(b)
			}
		}
		got, err := collect(res, take)
		if err != nil {
			t.Fatal(err)
		}
		for p, w := range want {
			if string(got[p]) != w {
				t.Errorf("take=%v: %s is\n%s\nwant\n%s", take, p, got[p], w)
			}
		}
		for _, pair := range [][2]string{
			{"staging/sys/configmap-a.yaml", "dev/sys/configmap-a.yaml"},
			{"prod/sys/configmap-b.yaml", "staging/sys/configmap-b.yaml"},
			{"prod/sys/configmap-c.yaml", "dev/sys/configmap-c.yaml"},
		} {
			if &got[pair[0]][0] != &got[pair[1]][0] {
				t.Errorf("take=%v: %s was encoded again, not copied from %s", take, pair[0], pair[1])
			}
		}
		if &got["staging/sys/configmap-b.yaml"][0] == &got["dev/sys/configmap-b.yaml"][0] {
			t.Errorf("take=%v: staging's b, overridden, has dev's bytes", take)
		}
		if take {
			for _, env := range res.Environments {
				for i, it := range env.Items {
					if it.Object != nil {
						t.Errorf("%s: item %d still holds its object", env.Name, i)
					}
				}
			}
		}
	}
}
