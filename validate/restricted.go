package validate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
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
// The rules are the upstream evaluator's (see checkPod). Each violation is
// reported as "<path> (<container name>): <problem>" for a container, or
// "<path>: <problem>" for the pod, a volume or the pod security context,
// where <problem> is the API server's wording ("<reason> (<detail>)"). The
// result is sorted; nil means no violation.
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
		case r.inject && group == "kubeflow.org" && kind == "PyTorchJob" && spec != nil:
			r.pytorchJob(p.Child("spec"), spec)
			return
		case r.inject && group == "trainer.kubeflow.org" && kind == "TrainJob" && spec != nil:
			r.trainJob(p.Child("spec"), spec)
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

// podSecurity is the upstream Pod Security evaluator, the one the API
// server's PodSecurity admission plugin runs, with every check of the
// library's version.
var podSecurity = sync.OnceValue(func() policy.Evaluator {
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic("pod security checks: " + err.Error())
	}
	return e
})

// checkPod evaluates one pod with the upstream evaluator at the checker's
// level, for the latest policy version it knows.
//
// The evaluator reports each failed check once for the whole pod ("containers
// "a", "b" must set ..."). To say where each problem is, the pod is evaluated
// in growing pieces: its host namespace settings alone, then with its
// security context, then with each volume alone and each container alone. A
// failure that a piece adds to the pod-level evaluation belongs to that
// piece's path; the whole pod is evaluated last so that a failure no piece
// explains alone is still reported (at the pod).
func (r *restrictedChecker) checkPod(level podLevel, containers []podContainer) {
	lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	if r.baseline {
		lv.Level = api.LevelBaseline
	}
	eval := func(spec *corev1.PodSpec) []policy.CheckResult {
		return podSecurity().EvaluatePod(lv, &metav1.ObjectMeta{}, spec)
	}
	// report adds the failures of got that before does not have (the
	// evaluator returns one result per check, in a fixed order).
	reported := map[int]bool{}
	report := func(got, before []policy.CheckResult, problem func(string, ...any)) {
		for i, res := range got {
			if res.Allowed || before != nil && !before[i].Allowed && before[i].ForbiddenDetail == res.ForbiddenDetail {
				continue
			}
			reported[i] = true
			if res.ForbiddenDetail == "" {
				problem("%s", res.ForbiddenReason)
			} else {
				problem("%s (%s)", res.ForbiddenReason, res.ForbiddenDetail)
			}
		}
	}
	podProblem := func(p *field.Path) func(string, ...any) {
		return func(format string, args ...any) { r.podProblem(p, format, args...) }
	}

	var flags corev1.PodSpec
	if err := decodeFields(level.flags, &flags, "hostNetwork", "hostPID", "hostIPC", "hostUsers", "os"); err != nil {
		r.podProblem(level.flagsAt, "cannot read: %v", err)
		return
	}
	flagsRes := eval(&flags)
	report(flagsRes, nil, podProblem(level.flagsAt))

	pod := flags
	if level.sc != nil {
		if err := decodeJSON(level.sc, &pod.SecurityContext); err != nil {
			r.podProblem(level.scPath, "cannot read: %v", err)
			return
		}
	}
	podRes := eval(&pod)
	report(podRes, flagsRes, podProblem(level.scPath))

	full := pod
	for i, v := range level.volumes {
		var vol corev1.Volume
		if err := decodeJSON(v, &vol); err != nil {
			r.podProblem(level.volPath(i), "cannot read: %v", err)
			continue
		}
		one := pod
		one.Volumes = []corev1.Volume{vol}
		report(eval(&one), podRes, podProblem(level.volPath(i)))
		full.Volumes = append(full.Volumes, vol)
	}
	for _, c := range containers {
		ctr, err := podSecurityContainer(c)
		if err != nil {
			r.containerProblem(c, "cannot read: %v", err)
			continue
		}
		one := pod
		one.Containers = []corev1.Container{ctr}
		report(eval(&one), podRes, func(format string, args ...any) { r.containerProblem(c, format, args...) })
		full.Containers = append(full.Containers, ctr)
	}
	for i, res := range eval(&full) {
		if !res.Allowed && !reported[i] {
			r.podProblem(level.flagsAt, "%s (%s)", res.ForbiddenReason, res.ForbiddenDetail)
		}
	}
}

// podSecurityContainerFields are the container fields Pod Security checks
// read: the security context, host ports, and the host of probes and
// lifecycle handlers.
var podSecurityContainerFields = []string{"securityContext", "ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle"}

// podSecurityContainer is c as the evaluator sees it: its name and the
// fields Pod Security reads, the security context completed from the
// defaults (Argo's templateDefaults) field by field.
func podSecurityContainer(c podContainer) (corev1.Container, error) {
	var ctr corev1.Container
	if err := decodeFields(c.obj, &ctr, podSecurityContainerFields...); err != nil {
		return ctr, err
	}
	ctr.Name = c.name
	if len(c.defaultSC) > 0 {
		sc := maps.Clone(c.defaultSC)
		own, _ := c.obj["securityContext"].(map[string]any)
		maps.Copy(sc, own)
		ctr.SecurityContext = nil
		if err := decodeJSON(sc, &ctr.SecurityContext); err != nil {
			return ctr, err
		}
	}
	return ctr, nil
}

// decodeFields decodes the named fields of obj into out, a k8s.io/api
// type; other fields (a KServe model spec's storageUri, an Argo template's
// inputs) are not the evaluator's business.
func decodeFields(obj map[string]any, out any, keys ...string) error {
	sub := map[string]any{}
	for _, k := range keys {
		if v, ok := obj[k]; ok {
			sub[k] = v
		}
	}
	return decodeJSON(sub, out)
}

func decodeJSON(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
