package validate

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/pod-security-admission/policy"
)

// podSecurityPod meets Pod Security restricted; each case of
// TestPodSecurityChecks breaks one rule.
const podSecurityPod = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: c
    image: busybox
    ports: [{containerPort: 8080}]
    readinessProbe: {httpGet: {port: 8080}}
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`

// One case per check of the upstream evaluator: the pod breaks that rule
// alone, and the problem is reported once, at the field that breaks it.
// A baseline rule is checked at baseline; a restricted rule at restricted,
// and baseline must then accept the pod.
func TestPodSecurityChecks(t *testing.T) {
	const ctr = "spec.containers[0] (c): "
	cases := []struct {
		check    policy.CheckID
		level    string
		old, new string
		want     string
	}{
		// baseline
		{"hostNamespaces", "baseline", "  securityContext: {runAsNonRoot", "  hostPID: true\n  securityContext: {runAsNonRoot",
			"spec: host namespaces (hostPID=true)"},
		{"privileged", "baseline", "allowPrivilegeEscalation: false,", "privileged: true,",
			ctr + `privileged (container "c" must not set securityContext.privileged=true)`},
		{"capabilities_baseline", "baseline", "drop: [ALL]", "drop: [ALL], add: [SYS_ADMIN]",
			ctr + `non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add)`},
		{"hostPathVolumes", "baseline", "emptyDir: {}", "hostPath: {path: /var}",
			`spec.volumes[0]: hostPath volumes (volume "data")`},
		{"hostPorts", "baseline", "containerPort: 8080}", "containerPort: 8080, hostPort: 8080}",
			ctr + `hostPort (container "c" uses hostPort 8080)`},
		{"hostProbesAndHostLifecycle", "baseline", "httpGet: {port: 8080}", "httpGet: {port: 8080, host: example.com}",
			ctr + `probe or lifecycle host (container "c" uses probe or lifecycle host "example.com")`},
		{"procMount", "baseline", "allowPrivilegeEscalation: false,", "procMount: Unmasked,",
			ctr + `procMount (container "c" must not set securityContext.procMount to "Unmasked")`},
		{"seccompProfile_baseline", "baseline", "allowPrivilegeEscalation: false,", "seccompProfile: {type: Unconfined},",
			ctr + `seccompProfile (container "c" must not set securityContext.seccompProfile.type to "Unconfined")`},
		{"seLinuxOptions", "baseline", "allowPrivilegeEscalation: false,", "seLinuxOptions: {type: spc_t},",
			ctr + `seLinuxOptions (container "c" set forbidden securityContext.seLinuxOptions: type "spc_t")`},
		{"sysctls", "baseline", "runAsNonRoot: true,", "runAsNonRoot: true, sysctls: [{name: kernel.msgmax, value: '1'}],",
			`spec.securityContext: forbidden sysctls (kernel.msgmax)`},
		{"windowsHostProcess", "baseline", "allowPrivilegeEscalation: false,", "windowsOptions: {hostProcess: true},",
			ctr + `hostProcess (container "c" must not set securityContext.windowsOptions.hostProcess=true)`},
		{"appArmorProfile", "baseline", "allowPrivilegeEscalation: false,", "appArmorProfile: {type: Unconfined},",
			ctr + `forbidden AppArmor profile (container "c" must not set AppArmor profile type to "Unconfined")`},
		// restricted
		{"allowPrivilegeEscalation", "restricted", "allowPrivilegeEscalation: false, ", "",
			ctr + `allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)`},
		{"capabilities_restricted", "restricted", "drop: [ALL]", "drop: [ALL], add: [CHOWN]",
			ctr + `unrestricted capabilities (container "c" must not include "CHOWN" in securityContext.capabilities.add)`},
		{"restrictedVolumes", "restricted", "emptyDir: {}", "nfs: {server: nfs.example.com, path: /}",
			`spec.volumes[0]: restricted volume types (volume "data" uses restricted volume type "nfs")`},
		{"runAsNonRoot", "restricted", "runAsNonRoot: true", "runAsNonRoot: false",
			`spec.securityContext: runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)`},
		{"runAsUser", "restricted", "runAsNonRoot: true,", "runAsNonRoot: true, runAsUser: 0,",
			`spec.securityContext: runAsUser=0 (pod must not set runAsUser=0)`},
		{"seccompProfile_restricted", "restricted", ", seccompProfile: {type: RuntimeDefault}", "",
			ctr + `seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
		// Unmasked /proc is allowed at baseline in a user namespace only.
		{"procMount_restricted", "restricted", "  securityContext: {runAsNonRoot: true,", "  hostUsers: false\n  securityContext: {runAsNonRoot: true,",
			ctr + `procMount (container "c" must not set securityContext.procMount to "Unmasked")`},
	}
	// A second edit, for the rules that need two.
	then := map[policy.CheckID][2]string{
		"procMount_restricted": {"allowPrivilegeEscalation: false,", "allowPrivilegeEscalation: false, procMount: Unmasked,"},
	}
	assert.Empty(t, PodViolations([]byte(podSecurityPod), "restricted", Cluster{}))
	var covered []policy.CheckID
	for _, tc := range cases {
		t.Run(string(tc.check), func(t *testing.T) {
			edited := edit(podSecurityPod, tc.old, tc.new)
			if e, ok := then[tc.check]; ok {
				edited = edit(edited, e[0], e[1])
			}
			doc := []byte(edited)
			assert.Equal(t, []string{tc.want}, PodViolations(doc, tc.level, Cluster{}))
			if tc.level == "restricted" {
				assert.Empty(t, PodViolations(doc, "baseline", Cluster{}), "a restricted rule only")
			}
			assert.Empty(t, PodViolations(doc, "privileged", Cluster{}))
		})
		covered = append(covered, tc.check)
	}
	var all []policy.CheckID
	for _, c := range policy.DefaultChecks() {
		all = append(all, c.ID)
	}
	slices.Sort(all)
	slices.Sort(covered)
	assert.Equal(t, all, covered, "one case per upstream check")
}
