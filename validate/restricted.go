package validate

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// RestrictedViolations checks every pod template in an object against the Pod
// Security Standards "restricted" profile (which includes "baseline"), as the
// PodSecurity admission controller of a namespace labelled
// pod-security.kubernetes.io/enforce=restricted would check the pods the object
// creates. doc is one YAML or JSON document of any kind.
//
// Pod specs are found generically: any object with a `containers` list (a
// Deployment's or Job's template, a training job's replica templates, a
// Notebook, a SeldonDeployment's componentSpecs, ...). Kinds whose pods are not
// laid out as a PodSpec are handled explicitly:
//   - Argo Workflows (Workflow, WorkflowTemplate, ClusterWorkflowTemplate,
//     CronWorkflow): each template's container, script, containerSet
//     containers, initContainers and sidecars are the containers; the pod
//     security context is the template's securityContext, else the
//     templateDefaults', else the workflow spec's.
//   - KServe InferenceService: the predictor, transformer and explainer are
//     pod specs whose model or framework spec (model, sklearn, pytorch, ...) is
//     a container too.
//
// Each violation is reported as "<path> (<container name>): <problem>" for a
// container, or "<path>: <problem>" for the pod. The result is sorted; nil
// means no violation.
func RestrictedViolations(doc []byte) []string {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return []string{documentPath + ": " + err.Error()}
	}
	var obj any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &obj); err != nil {
		return []string{documentPath + ": " + err.Error()}
	}
	var r restrictedChecker
	r.walk(nil, obj)
	sort.Strings(r.out)
	return r.out
}

type restrictedChecker struct {
	out []string
	// baseline checks the baseline level only (restricted includes it).
	baseline bool
	// inject adds the containers the controllers add (injected.go).
	inject  bool
	cluster Cluster
	// visit, if set, receives each pod instead of checking it.
	visit func(podLevel, []podContainer)
}

// pod checks (or visits) one pod.
func (r *restrictedChecker) pod(level podLevel, containers []podContainer) {
	if r.visit != nil {
		r.visit(level, containers)
		return
	}
	r.checkPod(level, containers)
}

func (r *restrictedChecker) podProblem(p *field.Path, format string, args ...any) {
	r.out = append(r.out, pathString(p)+": "+fmt.Sprintf(format, args...))
}

func (r *restrictedChecker) containerProblem(c podContainer, format string, args ...any) {
	name := c.name
	if c.injectedBy != "" {
		name += ", added by " + c.injectedBy
	}
	r.out = append(r.out, fmt.Sprintf("%s (%s): %s", pathString(c.path), name, fmt.Sprintf(format, args...)))
}

func pathString(p *field.Path) string {
	if p == nil {
		return documentPath
	}
	return p.String()
}

var kserveComponents = []string{"predictor", "transformer", "explainer"}

// kserveContainerSpecs are the members of a KServe component that are
// containers (the model or framework spec, with the Container fields inline).
var kserveContainerSpecs = []string{
	"model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface", "pmml", "lightgbm", "paddle", "art", "alibi",
}

// walk looks for pod specs below v.
func (r *restrictedChecker) walk(p *field.Path, v any) {
	switch v := v.(type) {
	case map[string]any:
		apiVersion, _ := v["apiVersion"].(string)
		kind, _ := v["kind"].(string)
		group, _, _ := strings.Cut(apiVersion, "/")
		spec, _ := v["spec"].(map[string]any)
		switch {
		case group == "argoproj.io" && argoWorkflowsKinds[kind] && spec != nil:
			wp := p.Child("spec")
			if kind == "CronWorkflow" {
				wp = wp.Child("workflowSpec")
				spec, _ = spec["workflowSpec"].(map[string]any)
			}
			if spec != nil {
				r.argoWorkflowSpec(wp, spec)
			}
			return
		case group == "serving.kserve.io" && kind == "InferenceService" && spec != nil:
			for _, comp := range kserveComponents {
				if c, ok := spec[comp].(map[string]any); ok {
					r.kserveComponent(p.Child("spec", comp), c)
				}
			}
			return
		case r.inject && group == "serving.kserve.io" && kind == "LLMInferenceService" && spec != nil:
			r.llmInferenceService(p.Child("spec"), spec)
			return
		case r.inject && group == "machinelearning.seldon.io" && kind == "SeldonDeployment" && spec != nil:
			r.seldon(p.Child("spec"), spec)
			return
		case r.inject && group == "kubeflow.org" && kind == "Experiment" && spec != nil:
			r.katib(p.Child("spec"), spec)
			return
		}
		if _, ok := v["containers"].([]any); ok {
			r.podSpec(p, v)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			r.walk(p.Child(k), v[k])
		}
	case []any:
		for i, e := range v {
			r.walk(p.Index(i), e)
		}
	}
}

// podContainer is one container of a pod, with where it was found.
type podContainer struct {
	path *field.Path
	name string
	obj  map[string]any
	// defaultSC is a container security context whose fields apply when the
	// container's own do not set them (Argo's templateDefaults).
	defaultSC map[string]any
	// injectedBy names the controller that adds the container at run
	// time; empty for a container written in the object.
	injectedBy string
}

// podLevel holds the pod-level settings of a pod.
type podLevel struct {
	sc      map[string]any // pod security context, may be nil
	scPath  *field.Path    // where sc was found
	flags   map[string]any // object holding hostNetwork, hostPID, hostIPC
	flagsAt *field.Path    // where flags was found
	volumes []any          // volumes, each with its path
	volPath func(i int) *field.Path
}

func (r *restrictedChecker) podSpec(p *field.Path, spec map[string]any) {
	var containers []podContainer
	for _, key := range []string{"initContainers", "containers", "ephemeralContainers"} {
		containers = append(containers, listContainers(p.Child(key), spec[key])...)
	}
	vols, _ := spec["volumes"].([]any)
	sc, _ := spec["securityContext"].(map[string]any)
	r.pod(podLevel{
		sc: sc, scPath: p.Child("securityContext"), flags: spec, flagsAt: p, volumes: vols,
		volPath: func(i int) *field.Path { return p.Child("volumes").Index(i) },
	}, containers)
}

func listContainers(p *field.Path, v any) []podContainer {
	list, _ := v.([]any)
	var out []podContainer
	for i, e := range list {
		if c, ok := e.(map[string]any); ok {
			out = append(out, podContainer{path: p.Index(i), name: containerName(c, ""), obj: c})
		}
	}
	return out
}

func containerName(c map[string]any, fallback string) string {
	if n, ok := c["name"].(string); ok && n != "" {
		return n
	}
	if fallback != "" {
		return fallback
	}
	return "unnamed"
}

func (r *restrictedChecker) kserveComponent(p *field.Path, comp map[string]any) {
	var containers []podContainer
	for _, key := range []string{"initContainers", "containers"} {
		containers = append(containers, listContainers(p.Child(key), comp[key])...)
	}
	for _, key := range kserveContainerSpecs {
		if c, ok := comp[key].(map[string]any); ok {
			containers = append(containers, podContainer{path: p.Child(key), name: containerName(c, "kserve-container"), obj: c})
		}
	}
	if len(containers) == 0 {
		return
	}
	if r.inject {
		containers = append(containers, r.kserveStorageInitializer(p, comp, containers)...)
	}
	vols, _ := comp["volumes"].([]any)
	sc, _ := comp["securityContext"].(map[string]any)
	r.pod(podLevel{
		sc: sc, scPath: p.Child("securityContext"), flags: comp, flagsAt: p, volumes: vols,
		volPath: func(i int) *field.Path { return p.Child("volumes").Index(i) },
	}, containers)
}

// argoWorkflowSpec checks the pod of every template of an Argo workflow spec.
func (r *restrictedChecker) argoWorkflowSpec(p *field.Path, spec map[string]any) {
	defaults, _ := spec["templateDefaults"].(map[string]any)
	wfVolumes, _ := spec["volumes"].([]any)
	templates, _ := spec["templates"].([]any)
	for i, t := range templates {
		if tmpl, ok := t.(map[string]any); ok {
			r.argoTemplate(p.Child("templates").Index(i), tmpl, spec, defaults, p, wfVolumes)
		}
	}
}

func (r *restrictedChecker) argoTemplate(p *field.Path, tmpl, spec, defaults map[string]any, specPath *field.Path, wfVolumes []any) {
	// Inline templates of steps and DAG tasks are templates too.
	if steps, ok := tmpl["steps"].([]any); ok {
		for i, group := range steps {
			list, _ := group.([]any)
			for j, s := range list {
				if step, ok := s.(map[string]any); ok {
					if inline, ok := step["inline"].(map[string]any); ok {
						r.argoTemplate(p.Child("steps").Index(i).Index(j).Child("inline"), inline, spec, defaults, specPath, wfVolumes)
					}
				}
			}
		}
	}
	if dag, ok := tmpl["dag"].(map[string]any); ok {
		tasks, _ := dag["tasks"].([]any)
		for i, t := range tasks {
			if task, ok := t.(map[string]any); ok {
				if inline, ok := task["inline"].(map[string]any); ok {
					r.argoTemplate(p.Child("dag", "tasks").Index(i).Child("inline"), inline, spec, defaults, specPath, wfVolumes)
				}
			}
		}
	}

	var defaultSC map[string]any
	if defaults != nil {
		if dc, ok := defaults["container"].(map[string]any); ok {
			defaultSC, _ = dc["securityContext"].(map[string]any)
		}
	}
	var containers []podContainer
	for _, key := range []string{"container", "script"} {
		if c, ok := tmpl[key].(map[string]any); ok {
			containers = append(containers, podContainer{path: p.Child(key), name: containerName(c, "main"), obj: c, defaultSC: defaultSC})
		}
	}
	if cs, ok := tmpl["containerSet"].(map[string]any); ok {
		containers = append(containers, listContainers(p.Child("containerSet", "containers"), cs["containers"])...)
	}
	for _, key := range []string{"initContainers", "sidecars"} {
		containers = append(containers, listContainers(p.Child(key), tmpl[key])...)
	}
	if r.inject {
		containers = append(containers, r.argoExecutors(p, spec, tmpl, len(containers) > 0)...)
	}
	if len(containers) == 0 {
		return // steps, dag, suspend, http, plugin, data: no pod of its own (resource: modelled with inject).
	}

	// The pod security context is the template's, else the defaults', else the
	// workflow's (Argo does not merge them).
	level := podLevel{flags: spec, flagsAt: specPath}
	for _, cand := range []struct {
		obj  map[string]any
		path *field.Path
	}{{tmpl, p}, {defaults, specPath.Child("templateDefaults")}, {spec, specPath}} {
		if cand.obj == nil {
			continue
		}
		if sc, ok := cand.obj["securityContext"].(map[string]any); ok {
			level.sc, level.scPath = sc, cand.path.Child("securityContext")
			break
		}
	}
	if level.scPath == nil {
		level.scPath = p.Child("securityContext")
	}
	tmplVolumes, _ := tmpl["volumes"].([]any)
	level.volumes = append(append([]any{}, wfVolumes...), tmplVolumes...)
	level.volPath = func(i int) *field.Path {
		if i < len(wfVolumes) {
			return specPath.Child("volumes").Index(i)
		}
		return p.Child("volumes").Index(i - len(wfVolumes))
	}
	r.pod(level, containers)
}

// allowedVolumeTypes are the volume sources the restricted profile allows.
var allowedVolumeTypes = map[string]bool{
	"configMap": true, "csi": true, "downwardAPI": true, "emptyDir": true, "ephemeral": true,
	"persistentVolumeClaim": true, "projected": true, "secret": true, "image": true,
}

// safeSysctls are the sysctls the baseline profile allows.
var safeSysctls = map[string]bool{
	"kernel.shm_rmid_forced": true, "net.ipv4.ip_local_port_range": true, "net.ipv4.ip_unprivileged_port_start": true,
	"net.ipv4.tcp_syncookies": true, "net.ipv4.ping_group_range": true, "net.ipv4.ip_local_reserved_ports": true,
	"net.ipv4.tcp_keepalive_time": true, "net.ipv4.tcp_fin_timeout": true, "net.ipv4.tcp_keepalive_intvl": true,
	"net.ipv4.tcp_keepalive_probes": true, "net.ipv4.tcp_rmem": true, "net.ipv4.tcp_wmem": true,
}

var allowedSELinuxTypes = map[string]bool{"": true, "container_t": true, "container_init_t": true, "container_kvm_t": true, "container_engine_t": true}

func (r *restrictedChecker) checkPod(level podLevel, containers []podContainer) {
	for _, flag := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if b, _ := level.flags[flag].(bool); b {
			r.podProblem(level.flagsAt, "%s must not be true", flag)
		}
	}
	for i, v := range level.volumes {
		vol, ok := v.(map[string]any)
		if !ok {
			continue
		}
		name := containerName(vol, "")
		for k := range vol {
			if k == "name" {
				continue
			}
			if k == "hostPath" {
				r.podProblem(level.volPath(i), "volume %q: hostPath volumes are not allowed", name)
			} else if !allowedVolumeTypes[k] && !r.baseline {
				r.podProblem(level.volPath(i), "volume %q: volume type %s is not allowed", name, k)
			}
		}
	}

	podSC := level.sc
	podNonRoot, podNonRootSet := podSC["runAsNonRoot"].(bool)
	if podNonRootSet && !podNonRoot && !r.baseline {
		r.podProblem(level.scPath, "runAsNonRoot must not be false")
	}
	if uid, ok := asInt(podSC["runAsUser"]); ok && uid == 0 && !r.baseline {
		r.podProblem(level.scPath, "runAsUser must not be 0")
	}
	podSeccomp, podSeccompSet := seccompType(podSC)
	if r.baseline {
		if podSeccompSet && podSeccomp == "Unconfined" {
			r.podProblem(level.scPath, "seccompProfile.type must not be Unconfined")
		}
	} else if podSeccompSet && !validSeccomp(podSeccomp) {
		r.podProblem(level.scPath, "seccompProfile.type must be RuntimeDefault or Localhost, not %q", podSeccomp)
	}
	checkCommonSC(podSC, func(format string, args ...any) { r.podProblem(level.scPath, format, args...) })
	if sysctls, ok := podSC["sysctls"].([]any); ok {
		for _, s := range sysctls {
			if m, ok := s.(map[string]any); ok {
				if n, _ := m["name"].(string); !safeSysctls[n] {
					r.podProblem(level.scPath, "sysctl %q is not allowed", n)
				}
			}
		}
	}

	for _, c := range containers {
		sc, _ := c.obj["securityContext"].(map[string]any)
		get := func(key string) (any, bool) {
			if v, ok := sc[key]; ok {
				return v, true
			}
			v, ok := c.defaultSC[key]
			return v, ok
		}
		problem := func(format string, args ...any) { r.containerProblem(c, format, args...) }

		if v, _ := get("privileged"); v == true {
			problem("privileged must not be true")
		}
		if r.baseline {
			r.checkBaselineContainer(get, c, problem)
			continue
		}
		if v, _ := get("allowPrivilegeEscalation"); v != false {
			problem("allowPrivilegeEscalation must be false")
		}
		switch v, ok := get("runAsNonRoot"); {
		case ok && v == false:
			problem("runAsNonRoot must not be false")
		case !(ok && v == true) && !(podNonRootSet && podNonRoot):
			problem("runAsNonRoot must be true (on the container or the pod securityContext)")
		}
		if v, ok := get("runAsUser"); ok {
			if uid, ok := asInt(v); ok && uid == 0 {
				problem("runAsUser must not be 0")
			}
		}
		seccomp, seccompSet := "", false
		if v, ok := get("seccompProfile"); ok {
			seccomp, seccompSet = seccompType(map[string]any{"seccompProfile": v})
		}
		switch {
		case seccompSet && !validSeccomp(seccomp):
			problem("seccompProfile.type must be RuntimeDefault or Localhost, not %q", seccomp)
		case !seccompSet && !(podSeccompSet && validSeccomp(podSeccomp)):
			problem("seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod securityContext)")
		}
		caps, _ := get("capabilities")
		capsMap, _ := caps.(map[string]any)
		drop, _ := capsMap["drop"].([]any)
		dropsAll := false
		for _, d := range drop {
			if s, _ := d.(string); s == "ALL" {
				dropsAll = true
			}
		}
		if !dropsAll {
			problem("capabilities must drop ALL")
		}
		add, _ := capsMap["add"].([]any)
		for _, a := range add {
			if s, _ := a.(string); s != "NET_BIND_SERVICE" {
				problem("capabilities may only add NET_BIND_SERVICE, not %v", a)
			}
		}
		checkContainerCommon(get, c, problem)
	}
}

// checkContainerCommon checks what restricted and baseline both ask of a
// container: the default /proc mount, SELinux, AppArmor and HostProcess
// settings, and no host ports.
func checkContainerCommon(get func(string) (any, bool), c podContainer, problem func(string, ...any)) {
	if pm, _ := get("procMount"); pm != nil && pm != "Default" {
		problem("procMount must be Default, not %v", pm)
	}
	merged := map[string]any{}
	for _, k := range []string{"seLinuxOptions", "appArmorProfile", "windowsOptions"} {
		if v, ok := get(k); ok {
			merged[k] = v
		}
	}
	checkCommonSC(merged, problem)
	ports, _ := c.obj["ports"].([]any)
	for i, port := range ports {
		if pm, ok := port.(map[string]any); ok {
			if hp, ok := asInt(pm["hostPort"]); ok && hp != 0 {
				problem("ports[%d].hostPort must not be set", i)
			}
		}
	}
}

// baselineCapabilities are the capabilities the baseline level lets a
// container add (the container runtimes' defaults).
var baselineCapabilities = map[string]bool{
	"AUDIT_WRITE": true, "CHOWN": true, "DAC_OVERRIDE": true, "FOWNER": true, "FSETID": true, "KILL": true, "MKNOD": true,
	"NET_BIND_SERVICE": true, "SETFCAP": true, "SETGID": true, "SETPCAP": true, "SETUID": true, "SYS_CHROOT": true,
}

// checkBaselineContainer checks what baseline asks of a container beyond
// privileged: added capabilities, /proc mount, seccomp, SELinux, AppArmor,
// HostProcess and host ports.
func (r *restrictedChecker) checkBaselineContainer(get func(string) (any, bool), c podContainer, problem func(string, ...any)) {
	caps, _ := get("capabilities")
	capsMap, _ := caps.(map[string]any)
	add, _ := capsMap["add"].([]any)
	for _, a := range add {
		if s, _ := a.(string); !baselineCapabilities[s] {
			problem("capabilities may not add %v", a)
		}
	}
	if v, ok := get("seccompProfile"); ok {
		if t, _ := seccompType(map[string]any{"seccompProfile": v}); t == "Unconfined" {
			problem("seccompProfile.type must not be Unconfined")
		}
	}
	checkContainerCommon(get, c, problem)
}

// checkCommonSC checks the security context fields that the pod and its
// containers share: SELinux options, AppArmor profile and Windows HostProcess.
func checkCommonSC(sc map[string]any, problem func(string, ...any)) {
	if se, ok := sc["seLinuxOptions"].(map[string]any); ok {
		if t, _ := se["type"].(string); !allowedSELinuxTypes[t] {
			problem("seLinuxOptions.type %q is not allowed", t)
		}
		for _, k := range []string{"user", "role"} {
			if v, _ := se[k].(string); v != "" {
				problem("seLinuxOptions.%s must not be set", k)
			}
		}
	}
	if aa, ok := sc["appArmorProfile"].(map[string]any); ok {
		if t, _ := aa["type"].(string); t == "Unconfined" {
			problem("appArmorProfile.type must not be Unconfined")
		}
	}
	if w, ok := sc["windowsOptions"].(map[string]any); ok {
		if hp, _ := w["hostProcess"].(bool); hp {
			problem("windowsOptions.hostProcess must not be true")
		}
	}
}

func seccompType(sc map[string]any) (string, bool) {
	sp, ok := sc["seccompProfile"].(map[string]any)
	if !ok {
		return "", false
	}
	t, _ := sp["type"].(string)
	return t, true
}

func validSeccomp(t string) bool {
	return t == "RuntimeDefault" || t == "Localhost"
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}
