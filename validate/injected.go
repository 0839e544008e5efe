package validate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Cluster holds the controller settings, outside any object kiln writes,
// that decide how the containers the controllers add look. The zero value
// is every controller's stock configuration.
type Cluster struct {
	// KatibInjectSecurityContext: katib-config's metricsCollector sets
	// injectSecurityContext: true, so the metrics-collector sidecar gets
	// the securityContext of the trial's first container.
	KatibInjectSecurityContext bool
	// KatibSuggestionSecurityContext is the securityContext katib-config
	// gives the suggestion container (none by default).
	KatibSuggestionSecurityContext map[string]any
	// KServeStorageSecurityContext is the securityContext of the
	// storage-initializer in KServe's ClusterStorageContainer (none by
	// default). It applies to components that name no
	// storageContainerName.
	KServeStorageSecurityContext map[string]any
	// PyTorchInitContainerSecurityContext is the securityContext the
	// training operator's init-container template
	// (--pytorch-init-container-template-file) gives init-pytorch (none
	// in the operator's built-in template).
	PyTorchInitContainerSecurityContext map[string]any
	// KServeStorageContainers are the containers of the
	// ClusterStorageContainers the rendered set holds, by name (see
	// WithObjects). A component's storageContainerName picks one; KServe
	// refuses the pod when it names one that does not exist.
	KServeStorageContainers map[string]map[string]any
}

// WithObjects returns cl with the objects of a rendered set that change
// what the controllers add: KServe ClusterStorageContainers.
func (cl Cluster) WithObjects(docs ...[]byte) Cluster {
	for _, doc := range docs {
		var o struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Container map[string]any `json:"container"`
			} `json:"spec"`
		}
		if yaml.Unmarshal(doc, &o) != nil || o.Kind != "ClusterStorageContainer" {
			continue
		}
		if cl.KServeStorageContainers == nil {
			cl.KServeStorageContainers = map[string]map[string]any{}
		} else {
			cl.KServeStorageContainers = maps.Clone(cl.KServeStorageContainers)
		}
		cl.KServeStorageContainers[o.Metadata.Name] = o.Spec.Container
	}
	return cl
}

// PodViolations checks every pod an object leads to, with the containers
// the controllers add at run time, against a Pod Security level
// ("restricted", "baseline" or "privileged"), as the PodSecurity
// admission plugin of a namespace enforcing that level sees the pod
// after the mutating webhooks ran. Besides what RestrictedViolations
// walks, it models:
//
//   - Argo Workflows (v3.6.10, workflowpod.go): every step pod's init
//     container and, except for resource and data templates, its wait
//     container, with the controller's default executor settings (no
//     securityContext, no resources; common.MinimalCtrSC for resource
//     templates, whose main container is argoexec too), then the
//     workflow's and the template's podSpecPatch applied as the
//     controller applies them;
//   - KServe (v0.20.0): the storage-initializer init container of a
//     component whose storageUri the storage initializer downloads,
//     unless the component already has one of that name;
//   - Seldon Core (v1.17.1): the seldon-container-engine (runAsUser 8888,
//     allowPrivilegeEscalation false, nothing else) and a model
//     initializer (no securityContext) for each graph node with a
//     modelUri, in the predictor's first component;
//   - the Kubeflow training operator (v1.8.1, pytorch/initcontainer.go):
//     an init-pytorch init container (alpine, nslookup of the master
//     until it resolves; requests 50m CPU, 10Mi memory; no
//     securityContext) in every Worker pod of a PyTorchJob that has a
//     Master replica;
//   - Kubeflow Trainer (v2.3.0): the runtime's dataset-initializer and
//     model-initializer containers (Trainer's images, no securityContext,
//     no resources) of a TrainJob that configures those initializers,
//     merged with the TrainJob's runtime patch of them;
//   - Katib: a metrics-collector sidecar in every trial pod unless the
//     collector is None or Push, and the suggestion Deployment's pod
//     (suggestion container; early-stopping container when the
//     Experiment stops early).
func PodViolations(doc []byte, level string, cl Cluster) []string {
	if level == "privileged" {
		return nil
	}
	r := restrictedChecker{baseline: level == "baseline", inject: true, cluster: cl}
	return r.run(doc)
}

// MissingRequests lists, for every container of every pod the object
// leads to (modelled as PodViolations does), each of resources (such as
// "cpu", "memory") it does not request, as "<path> (<container>): no
// <resource> request". A ResourceQuota on requests.<resource> makes the
// API server reject such a pod unless a LimitRange gives a default.
func MissingRequests(doc []byte, resources []string, cl Cluster) []string {
	var out []string
	r := restrictedChecker{inject: true, cluster: cl}
	r.visit = func(_ podLevel, cs []podContainer) {
		for _, c := range cs {
			res, _ := c.obj["resources"].(map[string]any)
			req, _ := res["requests"].(map[string]any)
			lim, _ := res["limits"].(map[string]any)
			for _, name := range resources {
				// The API server defaults a missing request to the limit.
				if req[name] == nil && lim[name] == nil {
					r.containerProblem(c, "no %s request", name)
				}
			}
		}
	}
	out = r.run(doc)
	return out
}

func (r *restrictedChecker) run(doc []byte) []string {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return []string{documentPath + ": " + err.Error()}
	}
	var obj any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &obj); err != nil {
		return []string{documentPath + ": " + err.Error()}
	}
	r.walk(nil, obj)
	sort.Strings(r.out)
	return r.out
}

// toMap converts a typed value to the generic form the checker walks.
func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(b, &m); err != nil {
		return nil
	}
	return m
}

func quantities(kv ...string) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// argoMinimalCtrSC is Argo's common.MinimalCtrSC, which the controller
// gives the executor containers of resource templates.
func argoMinimalCtrSC() map[string]any {
	return map[string]any{
		"capabilities": map[string]any{"drop": []any{"ALL"}}, "privileged": false, "runAsNonRoot": true,
		"runAsUser": int64(8737), "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
}

// argoExecutors are the argoexec containers of the pod of an Argo template
// (hasMain: the template has a container, script or containerSet), after
// the workflow's and the template's podSpecPatch.
func (r *restrictedChecker) argoExecutors(p *field.Path, spec, tmpl map[string]any, hasMain bool) []podContainer {
	_, isResource := tmpl["resource"].(map[string]any)
	if !hasMain && !isResource {
		return nil
	}
	exec := func(name string) map[string]any {
		c := map[string]any{"name": name, "image": "argoexec"}
		if isResource {
			sc := argoMinimalCtrSC()
			if name != "main" {
				delete(sc, "readOnlyRootFilesystem")
			}
			c["securityContext"] = sc
		}
		return c
	}
	pod := map[string]any{"initContainers": []any{exec("init")}}
	if isResource {
		pod["containers"] = []any{exec("main")}
	} else {
		pod["containers"] = []any{exec("wait")}
	}
	patched := pod
	for _, src := range []map[string]any{spec, tmpl} {
		ps, _ := src["podSpecPatch"].(string)
		if ps == "" {
			continue
		}
		next, err := applyPatch(patched, ps)
		if err != nil {
			r.podProblem(p.Child("podSpecPatch"), "Argo cannot apply the podSpecPatch: %v", err)
			return nil
		}
		patched = next
	}
	var out []podContainer
	for _, key := range []string{"initContainers", "containers"} {
		list, _ := patched[key].([]any)
		for _, e := range list {
			c, _ := e.(map[string]any)
			name, _ := c["name"].(string)
			// Patches may name the user's containers too; those are
			// checked where the template writes them.
			if name == "init" || name == "wait" || (isResource && name == "main") {
				out = append(out, podContainer{path: p, name: name, obj: c, injectedBy: "Argo"})
			}
		}
	}
	return out
}

// applyPatch applies a podSpecPatch as Argo's util.ApplyPodSpecPatch does:
// YAML to JSON, strategic merge into the pod spec with PodSpec's merge keys.
func applyPatch(pod map[string]any, patch string) (map[string]any, error) {
	pj, err := yaml.YAMLToJSON([]byte(patch))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(pj, &corev1.PodSpec{}); err != nil {
		return nil, fmt.Errorf("podSpecPatch is no PodSpec: %w", err)
	}
	b, err := json.Marshal(pod)
	if err != nil {
		return nil, err
	}
	out, err := strategicpatch.StrategicMergePatch(b, pj, corev1.PodSpec{})
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, kjson.UnmarshalCaseSensitivePreserveInts(out, &m)
}

// kserveDownloads reports whether KServe's storage initializer downloads
// uri: pvc:// is mounted instead, and oci:// runs as a sidecar image.
func kserveDownloads(uri string) bool {
	for _, prefix := range []string{"gs://", "s3://", "hdfs://", "webhdfs://", "hf://", "http://", "https://"} {
		if strings.HasPrefix(uri, prefix) {
			return true
		}
	}
	return false
}

// kserveStorageInitializer is the init container KServe's pod mutator adds
// to a component with a storageUri it downloads (its
// ClusterStorageContainer: requests 100m CPU, 100Mi memory), unless the
// component has an init container of that name already.
func (r *restrictedChecker) kserveStorageInitializer(p *field.Path, comp map[string]any, containers []podContainer) []podContainer {
	uri, _ := comp["storageUri"].(string)
	for _, key := range kserveContainerSpecs {
		if c, ok := comp[key].(map[string]any); ok {
			if u, _ := c["storageUri"].(string); u != "" {
				uri = u
			}
		}
	}
	if !kserveDownloads(uri) {
		return nil
	}
	for _, c := range containers {
		if c.name == "storage-initializer" {
			return nil
		}
	}
	c := map[string]any{
		"name":      "storage-initializer",
		"resources": map[string]any{"requests": quantities("cpu", "100m", "memory", "100Mi"), "limits": quantities("cpu", "1", "memory", "1Gi")},
	}
	if name, _ := comp["storageContainerName"].(string); name != "" {
		// The webhook merges the named ClusterStorageContainer's container
		// over the one it built (injector.go, container_merge.go).
		csc, ok := r.cluster.KServeStorageContainers[name]
		if !ok {
			r.podProblem(p.Child("storageContainerName"), "KServe refuses the pod: no ClusterStorageContainer %q", name)
			return nil
		}
		c = mergeMaps(c, csc)
		c["name"] = "storage-initializer"
	} else if r.cluster.KServeStorageSecurityContext != nil {
		c["securityContext"] = r.cluster.KServeStorageSecurityContext
	}
	return []podContainer{{path: p, name: "storage-initializer", obj: c, injectedBy: "KServe"}}
}

// mergeMaps merges patch into base as a strategic merge patch does for
// the fields a storage container sets: maps merge key by key, everything
// else is replaced.
func mergeMaps(base, patch map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, v := range patch {
		if pm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(bm, pm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// seldon walks a SeldonDeployment's predictors; Seldon adds its executor
// and model initializers to the first component's pod.
func (r *restrictedChecker) seldon(p *field.Path, spec map[string]any) {
	preds, _ := spec["predictors"].([]any)
	for i, e := range preds {
		pred, _ := e.(map[string]any)
		pp := p.Child("predictors").Index(i)
		comps, _ := pred["componentSpecs"].([]any)
		var injected []podContainer
		engine := map[string]any{
			"name":            "seldon-container-engine",
			"securityContext": map[string]any{"runAsUser": int64(8888), "allowPrivilegeEscalation": false},
			"resources":       map[string]any{"requests": quantities("cpu", "100m")},
		}
		injected = append(injected, podContainer{path: pp, name: "seldon-container-engine", obj: engine, injectedBy: "Seldon"})
		var nodes func(n map[string]any)
		nodes = func(n map[string]any) {
			if uri, _ := n["modelUri"].(string); uri != "" {
				name, _ := n["name"].(string)
				injected = append(injected, podContainer{path: pp.Child("graph"), name: name + "-model-initializer", injectedBy: "Seldon",
					obj: map[string]any{"name": name + "-model-initializer"}})
			}
			children, _ := n["children"].([]any)
			for _, c := range children {
				if m, ok := c.(map[string]any); ok {
					nodes(m)
				}
			}
		}
		if g, ok := pred["graph"].(map[string]any); ok {
			nodes(g)
		}
		for j, ce := range comps {
			cs, _ := ce.(map[string]any)
			ps, _ := cs["spec"].(map[string]any)
			if ps == nil {
				continue
			}
			sp := pp.Child("componentSpecs").Index(j).Child("spec")
			r.podSpecWith(sp, ps, injected)
			injected = nil
		}
		if injected != nil {
			r.podSpecWith(pp, map[string]any{}, injected)
		}
	}
}

// podSpecWith checks a pod spec with extra containers.
func (r *restrictedChecker) podSpecWith(p *field.Path, spec map[string]any, extra []podContainer) {
	var containers []podContainer
	for _, key := range []string{"initContainers", "containers", "ephemeralContainers"} {
		containers = append(containers, listContainers(p.Child(key), spec[key])...)
	}
	containers = append(containers, extra...)
	vols, _ := spec["volumes"].([]any)
	sc, _ := spec["securityContext"].(map[string]any)
	r.pod(podLevel{
		sc: sc, scPath: p.Child("securityContext"), flags: spec, flagsAt: p, volumes: vols,
		volPath: func(i int) *field.Path { return p.Child("volumes").Index(i) },
	}, containers)
}

// katibDefaultResources are katib-config's defaults for the metrics
// collector and suggestion containers.
func katibDefaultResources() map[string]any {
	return map[string]any{"requests": quantities("cpu", "50m", "memory", "10Mi"), "limits": quantities("cpu", "500m", "memory", "100Mi")}
}

// katib walks an Experiment: every pod of its trial spec gets the metrics
// collector, and the suggestion Deployment runs in the namespace too.
func (r *restrictedChecker) katib(p *field.Path, spec map[string]any) {
	mc, _ := spec["metricsCollectorSpec"].(map[string]any)
	coll, _ := mc["collector"].(map[string]any)
	kind, _ := coll["kind"].(string)
	sidecar := kind != "None" && kind != "Push"
	tt, _ := spec["trialTemplate"].(map[string]any)
	if ts, ok := tt["trialSpec"]; ok {
		inner := *r
		inner.out = nil
		inner.visit = func(level podLevel, cs []podContainer) {
			if sidecar && len(cs) > 0 {
				c := map[string]any{"name": "metrics-logger-and-collector", "resources": katibDefaultResources()}
				if r.cluster.KatibInjectSecurityContext {
					if sc, ok := cs[0].obj["securityContext"]; ok {
						c["securityContext"] = sc
					}
				}
				cs = append(cs, podContainer{path: cs[0].path, name: "metrics-logger-and-collector", obj: c, injectedBy: "Katib"})
			}
			r.pod(level, cs)
		}
		inner.walk(p.Child("trialTemplate", "trialSpec"), ts)
	}
	sugg := []podContainer{{path: p.Child("algorithm"), name: "suggestion", injectedBy: "Katib",
		obj: map[string]any{"name": "suggestion", "resources": katibDefaultResources()}}}
	if r.cluster.KatibSuggestionSecurityContext != nil {
		sugg[0].obj["securityContext"] = r.cluster.KatibSuggestionSecurityContext
	}
	if _, ok := spec["earlyStopping"].(map[string]any); ok {
		sugg = append(sugg, podContainer{path: p.Child("earlyStopping"), name: "early-stopping", injectedBy: "Katib",
			obj: map[string]any{"name": "early-stopping", "resources": katibDefaultResources()}})
	}
	r.pod(podLevel{flags: map[string]any{}, flagsAt: p.Child("algorithm"), scPath: p.Child("algorithm")}, sugg)
}

// pytorchInitContainer is the init container the training operator adds
// to the Worker pods of a PyTorchJob with a Master: it waits until the
// master's Service resolves. Its template is the operator's, not the job's.
func (r *restrictedChecker) pytorchInitContainer() map[string]any {
	c := map[string]any{
		"name":  "init-pytorch",
		"image": "alpine:3.10",
		"resources": map[string]any{
			"requests": quantities("cpu", "50m", "memory", "10Mi"),
			"limits":   quantities("cpu", "100m", "memory", "20Mi"),
		},
	}
	if sc := r.cluster.PyTorchInitContainerSecurityContext; sc != nil {
		c["securityContext"] = sc
	}
	return c
}

// pytorchJob walks a PyTorchJob's replica templates; with a Master
// replica, the operator adds init-pytorch to each Worker pod (and only
// there: elastic jobs, which have no Master, get none).
func (r *restrictedChecker) pytorchJob(p *field.Path, spec map[string]any) {
	replicas, _ := spec["pytorchReplicaSpecs"].(map[string]any)
	_, hasMaster := replicas["Master"]
	for _, rtype := range slices.Sorted(maps.Keys(replicas)) {
		rs, _ := replicas[rtype].(map[string]any)
		tmpl, _ := rs["template"].(map[string]any)
		ps, _ := tmpl["spec"].(map[string]any)
		if ps == nil {
			continue
		}
		sp := p.Child("pytorchReplicaSpecs", rtype, "template", "spec")
		var extra []podContainer
		if hasMaster && rtype == "Worker" {
			extra = []podContainer{{path: sp, name: "init-pytorch", obj: r.pytorchInitContainer(), injectedBy: "the training operator"}}
		}
		r.podSpecWith(sp, ps, extra)
	}
}
