package fleet

import "testing"

// Two claims are on one cluster when both name it and the names agree, or,
// when one does not name its cluster, when their environments are the same.
func TestSameCluster(t *testing.T) {
	for _, tc := range []struct {
		a, b claim
		want bool
	}{
		{claim{env: "dev", cluster: "cluster gpu-a"}, claim{env: "prod", cluster: "cluster gpu-a"}, true},
		{claim{env: "dev", cluster: "cluster gpu-a"}, claim{env: "dev", cluster: "cluster gpu-b"}, false},
		{claim{env: "dev"}, claim{env: "dev"}, true},
		{claim{env: "dev"}, claim{env: "prod"}, false},
		{claim{env: "dev"}, claim{env: "dev", cluster: "cluster gpu-a"}, true},
		{claim{env: "dev", cluster: "cluster gpu-a"}, claim{env: "prod"}, false},
	} {
		if got := tc.a.sameCluster(tc.b); got != tc.want {
			t.Errorf("%+v, %+v: sameCluster = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.sameCluster(tc.a); got != tc.want {
			t.Errorf("%+v, %+v: sameCluster = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

// A claim to a name by the system that already holds it is no conflict;
// another system's, on the same cluster, is.
func TestClaims(t *testing.T) {
	m := claims{}
	if _, dup := m.add("ml", claim{system: "a", env: "dev"}); dup {
		t.Fatal("first claim reported")
	}
	if _, dup := m.add("ml", claim{system: "a", env: "dev"}); dup {
		t.Error("a system's own second claim reported")
	}
	if _, dup := m.add("ml", claim{system: "b", env: "prod"}); dup {
		t.Error("a claim on another cluster reported")
	}
	if first, dup := m.add("ml", claim{system: "c", env: "dev"}); !dup || first.system != "a" {
		t.Errorf("conflict with a not reported: %+v, %v", first, dup)
	}
}
