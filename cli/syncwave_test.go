package cli_test

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestExampleSyncWaves checks the apply order Argo CD follows in every
// rendered environment: the namespace, quotas, service accounts, RBAC and
// configuration are in an earlier wave than every workload, and nothing
// that becomes healthy only once a workload uses it (a
// PersistentVolumeClaim) is in that earlier wave.
func TestExampleSyncWaves(t *testing.T) {
	files := renderExample(t, "skin-lesion")
	platform := map[string]bool{"Namespace": true, "ResourceQuota": true, "LimitRange": true, "ServiceAccount": true, "Role": true, "RoleBinding": true, "ClusterRole": true, "ClusterRoleBinding": true, "PriorityClass": true, "ConfigMap": true,
		// KServe's pod mutator refuses model server pods until their
		// storage container exists.
		"ClusterStorageContainer": true}
	type obj struct{ kind, file string }
	waves := map[string]map[int][]obj{} // environment directory → wave → objects
	for _, p := range slices.Sorted(maps.Keys(files)) {
		dir, name, ok := strings.Cut(p, "/")
		if !ok || dir == "argocd" || !strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, "kustomization.yaml") {
			continue
		}
		var o struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(files[p]), &o); err != nil {
			t.Fatal(err)
		}
		w, err := strconv.Atoi(o.Metadata.Annotations["argocd.argoproj.io/sync-wave"])
		if err != nil {
			t.Fatalf("%s: sync wave %q: %v", p, o.Metadata.Annotations["argocd.argoproj.io/sync-wave"], err)
		}
		if waves[dir] == nil {
			waves[dir] = map[int][]obj{}
		}
		waves[dir][w] = append(waves[dir][w], obj{o.Kind, p})
	}
	if len(waves) == 0 {
		t.Fatal("no environments rendered")
	}
	for dir, byWave := range waves {
		maxPlatform, minWorkload := -1<<31, 1<<31-1
		for w, objs := range byWave {
			for _, o := range objs {
				// Everything else, claims included, is a workload.
				if platform[o.kind] {
					maxPlatform = max(maxPlatform, w)
				} else {
					minWorkload = min(minWorkload, w)
				}
			}
		}
		if maxPlatform >= minWorkload {
			t.Errorf("%s: platform objects reach wave %d but a workload is in wave %d: %v", dir, maxPlatform, minWorkload, byWave)
		}
	}
}
