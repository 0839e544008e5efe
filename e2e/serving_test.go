//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/validate"
)

// predictorSpec is the part of an InferenceService's predictor kiln
// renders and these tests compare with what KServe made of it.
type predictorSpec struct {
	MinReplicas int32  `json:"minReplicas"`
	MaxReplicas int32  `json:"maxReplicas"`
	ScaleMetric string `json:"scaleMetric"`
	ScaleTarget int32  `json:"scaleTarget"`
	Model       struct {
		Resources       corev1.ResourceRequirements `json:"resources"`
		SecurityContext *corev1.SecurityContext     `json:"securityContext"`
		StorageURI      string                      `json:"storageUri"`
	} `json:"model"`
	Labels             map[string]string          `json:"labels"`
	NodeSelector       map[string]string          `json:"nodeSelector"`
	Tolerations        []corev1.Toleration        `json:"tolerations"`
	SecurityContext    *corev1.PodSecurityContext `json:"securityContext"`
	ServiceAccountName string                     `json:"serviceAccountName"`
}

func predictorOf(t *testing.T, isvc *unstructured.Unstructured) predictorSpec {
	t.Helper()
	m, _, _ := unstructured.NestedMap(isvc.Object, "spec", "predictor")
	var p predictorSpec
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(m, &p))
	return p
}

// servingCredentials creates the Secrets kiln's storage service accounts
// name (a platform team's, not kiln's to render), before the objects that
// use them, in the environment's namespace.
func servingCredentials(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			require.NoError(t, cl.apply(ctx, o.DeepCopy()))
		}
	}
	for _, o := range objs {
		if o.GetKind() != "ServiceAccount" || !strings.HasSuffix(o.GetName(), "-storage") {
			continue
		}
		secrets, _, _ := unstructured.NestedSlice(o.Object, "secrets")
		for _, s := range secrets {
			name, _ := s.(map[string]any)["name"].(string)
			sec := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.GetNamespace()},
				StringData: map[string]string{
					"AWS_ACCESS_KEY_ID": "e2e", "AWS_SECRET_ACCESS_KEY": "e2e",
					"gcloud-application-credentials.json": "{}",
				},
			}
			_, err := cl.kube.CoreV1().Secrets(o.GetNamespace()).Create(ctx, sec, metav1.CreateOptions{})
			if !apierrors.IsAlreadyExists(err) {
				require.NoError(t, err, "secret %s", name)
			}
		}
	}
}

// kserveLog is the end of the KServe manager's log, for failures.
func kserveLog() string {
	for _, p := range cl.procs {
		if p.name == "kserve" {
			b, _ := os.ReadFile(p.log)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) > 30 {
				lines = lines[len(lines)-30:]
			}
			return "kserve manager log (last lines):\n" + strings.Join(lines, "\n")
		}
	}
	return ""
}

// waitReady waits for an InferenceService's Ready condition and fails
// with its conditions, its events and KServe's log.
func waitReady(t *testing.T, isvc *unstructured.Unstructured, timeout time.Duration) *unstructured.Unstructured {
	t.Helper()
	ctx := context.Background()
	ri, err := cl.resource(isvc)
	require.NoError(t, err)
	var cur *unstructured.Unstructured
	err = cl.waitFor(ctx, timeout, "InferenceService "+isvc.GetName()+" to be Ready", func() (bool, error) {
		cur, err = ri.Get(ctx, isvc.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s, _ := conditionOf(cur, "Ready")
		return s == "True", nil
	})
	if err != nil {
		var conds []string
		if cur != nil {
			cs, _, _ := unstructured.NestedSlice(cur.Object, "status", "conditions")
			for _, c := range cs {
				m := c.(map[string]any)
				conds = append(conds, fmt.Sprintf("  %v=%v %v: %v", m["type"], m["status"], m["reason"], m["message"]))
			}
		}
		t.Fatalf("%v\nconditions:\n%s\n%s\n%s", err, strings.Join(conds, "\n"), eventsFor(isvc.GetNamespace(), isvc.GetName()), kserveLog())
	}
	return cur
}

// checkPredictor compares what KServe created for one InferenceService
// (Deployment, HPA, Service, pods) with what kiln asked for, and returns
// the pods.
func checkPredictor(t *testing.T, isvc *unstructured.Unstructured, ccsc *corev1.Container) []corev1.Pod {
	t.Helper()
	ctx := context.Background()
	ns, name := isvc.GetNamespace(), isvc.GetName()
	want := predictorOf(t, isvc)
	component := name + "-predictor"

	dep, err := cl.kube.AppsV1().Deployments(ns).Get(ctx, component, metav1.GetOptions{})
	require.NoError(t, err, "KServe's Deployment for %s", name)
	t.Logf("Deployment %s: replicas %d", dep.Name, *dep.Spec.Replicas)
	assert.Equal(t, want.MinReplicas, *dep.Spec.Replicas, "replicas start at minReplicas")
	ps := dep.Spec.Template.Spec
	var c *corev1.Container
	for i := range ps.Containers {
		if ps.Containers[i].Name == "kserve-container" {
			c = &ps.Containers[i]
		}
	}
	require.NotNil(t, c, "the model server container")
	t.Logf("  container %s: image %s, requests %s, limits %s", c.Name, c.Image, resourceList(c.Resources.Requests), resourceList(c.Resources.Limits))
	assert.True(t, equality.Semantic.DeepEqual(want.Model.Resources, c.Resources),
		"the model server runs with the resources kiln asked for:\nkiln:  %v\nKServe: %v", want.Model.Resources, c.Resources)
	require.NotNil(t, c.SecurityContext)
	assert.Equal(t, want.Model.SecurityContext.AllowPrivilegeEscalation, c.SecurityContext.AllowPrivilegeEscalation)
	assert.Equal(t, want.Model.SecurityContext.Capabilities, c.SecurityContext.Capabilities)
	assert.Equal(t, want.Model.SecurityContext.RunAsNonRoot, c.SecurityContext.RunAsNonRoot)
	assert.Equal(t, want.SecurityContext, ps.SecurityContext, "the pod's securityContext")
	assert.Equal(t, want.NodeSelector, ps.NodeSelector)
	assert.Equal(t, want.Tolerations, ps.Tolerations)
	assert.Equal(t, want.ServiceAccountName, ps.ServiceAccountName)
	for k, v := range want.Labels {
		assert.Equal(t, v, dep.Spec.Template.Labels[k], "pod label %s", k)
	}

	hpa, err := cl.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, component, metav1.GetOptions{})
	require.NoError(t, err, "KServe's HPA for %s", name)
	t.Logf("HPA %s: %d-%d replicas, metrics %s", hpa.Name, *hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas, metricsOf(hpa))
	assert.Equal(t, want.MinReplicas, *hpa.Spec.MinReplicas)
	assert.Equal(t, want.MaxReplicas, hpa.Spec.MaxReplicas)
	require.Len(t, hpa.Spec.Metrics, 1)
	m := hpa.Spec.Metrics[0]
	require.NotNil(t, m.Resource, "a resource metric")
	assert.Equal(t, corev1.ResourceName(want.ScaleMetric), m.Resource.Name)
	require.NotNil(t, m.Resource.Target.AverageUtilization)
	assert.Equal(t, want.ScaleTarget, *m.Resource.Target.AverageUtilization)

	svc, err := cl.kube.CoreV1().Services(ns).Get(ctx, component, metav1.GetOptions{})
	require.NoError(t, err, "KServe's Service for %s", name)
	t.Logf("Service %s: %s ports %v", svc.Name, svc.Spec.Type, portsOf(svc.Spec.Ports))

	// The pods: admitted by the namespace's Pod Security level with the
	// storage initializer KServe's webhook added, on nodes of the product
	// kiln selected, Running and Ready.
	var pods []corev1.Pod
	err = cl.waitFor(ctx, 2*time.Minute, fmt.Sprintf("%d ready pods of %s", want.MinReplicas, component), func() (bool, error) {
		pods = podsOf(t, ns, "serving.kserve.io/inferenceservice="+name)
		ready := 0
		for _, p := range pods {
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready == int(want.MinReplicas), nil
	})
	require.NoError(t, err, eventsFor(ns, component))
	for _, p := range pods {
		product := nodeProduct(t, p.Spec.NodeName)
		t.Logf("pod %s on %s (%s), init containers %v", p.Name, p.Spec.NodeName, product, containerNames(p.Spec.InitContainers))
		if gpu, ok := want.NodeSelector["nvidia.com/gpu.product"]; ok {
			assert.Equal(t, gpu, product, "pod %s", p.Name)
		}
		var si *corev1.Container
		for i := range p.Spec.InitContainers {
			if p.Spec.InitContainers[i].Name == "storage-initializer" {
				si = &p.Spec.InitContainers[i]
			}
		}
		require.NotNil(t, si, "KServe's webhook adds the storage initializer to pod %s", p.Name)
		assert.Contains(t, si.Args, want.Model.StorageURI)
		assert.Equal(t, ccsc.SecurityContext, si.SecurityContext, "the storage initializer runs with the securityContext of kiln's ClusterStorageContainer")
		// The pod as the cluster made it meets restricted, whatever the
		// namespace enforces (the API server admitted it under that).
		b, err := yaml.Marshal(p)
		require.NoError(t, err)
		assert.Empty(t, validate.RestrictedViolations(b), "pod %s, with the storage initializer, meets restricted", p.Name)
	}
	return pods
}

// resourceList prints requests or limits as name=quantity.
func resourceList(l corev1.ResourceList) string {
	var out []string
	for k, v := range l {
		out = append(out, fmt.Sprintf("%s=%s", k, v.String()))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// defaulted logs what KServe's webhook and controller added to an
// InferenceService kiln rendered: annotations, and the runtime the
// controller chose.
func defaulted(t *testing.T, kiln, cur *unstructured.Unstructured) {
	t.Helper()
	var added []string
	for k, v := range cur.GetAnnotations() {
		if _, ok := kiln.GetAnnotations()[k]; !ok && k != "kubectl.kubernetes.io/last-applied-configuration" {
			added = append(added, k+"="+v)
		}
	}
	sort.Strings(added)
	runtime, _, _ := unstructured.NestedString(cur.Object, "status", "clusterServingRuntimeName")
	if runtime == "" {
		runtime, _, _ = unstructured.NestedString(cur.Object, "status", "servingRuntimeName")
	}
	t.Logf("InferenceService %s: KServe added annotations %v, finalizers %v; runtime %s", cur.GetName(), added, cur.GetFinalizers(), runtime)
}

func metricsOf(h *autoscalingv2.HorizontalPodAutoscaler) string {
	var out []string
	for _, m := range h.Spec.Metrics {
		if m.Resource != nil && m.Resource.Target.AverageUtilization != nil {
			out = append(out, fmt.Sprintf("%s %d%%", m.Resource.Name, *m.Resource.Target.AverageUtilization))
		} else {
			out = append(out, string(m.Type))
		}
	}
	return strings.Join(out, ", ")
}

func portsOf(ps []corev1.ServicePort) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %d->%s", p.Name, p.Port, p.TargetPort.String()))
	}
	return out
}

func containerNames(cs []corev1.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// storageContainer is the container of kiln's ClusterStorageContainer.
func storageContainer(t *testing.T, objs []*unstructured.Unstructured) *corev1.Container {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "ClusterStorageContainer" {
			m, _, _ := unstructured.NestedMap(o.Object, "spec", "container")
			var c corev1.Container
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(m, &c))
			return &c
		}
	}
	t.Fatal("kiln rendered no ClusterStorageContainer")
	return nil
}

// endpointPods lists the pods behind a Service, by its EndpointSlices.
func endpointPods(t *testing.T, ns, service string) []string {
	t.Helper()
	list, err := cl.kube.DiscoveryV1().EndpointSlices(ns).List(context.Background(), metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + service})
	require.NoError(t, err)
	var out []string
	for _, s := range list.Items {
		for _, e := range s.Endpoints {
			if e.TargetRef != nil && e.TargetRef.Kind == "Pod" {
				out = append(out, e.TargetRef.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func podNames(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// serveEnv applies an environment's serving objects and checks each
// Standard-mode InferenceService. It returns the pods by InferenceService.
func serveEnv(t *testing.T, example, env string) ([]*unstructured.Unstructured, map[string][]corev1.Pod) {
	t.Helper()
	out := renderExample(t, example)
	objs := envObjects(t, out, env, example)
	servingCredentials(t, objs)
	start := time.Now()
	applyEnv(t, objs, "CronWorkflow")
	ccsc := storageContainer(t, objs)
	pods := map[string][]corev1.Pod{}
	for _, o := range objs {
		if o.GetKind() != "InferenceService" || o.GetAnnotations()["serving.kserve.io/deploymentMode"] != "Standard" {
			continue
		}
		cur := waitReady(t, o, 3*time.Minute)
		t.Logf("InferenceService %s Ready after %s (deploymentMode %s)", o.GetName(), time.Since(start).Round(time.Second), cur.GetAnnotations()["serving.kserve.io/deploymentMode"])
		defaulted(t, o, cur)
		pods[o.GetName()] = checkPredictor(t, o, ccsc)
	}
	require.NotEmpty(t, pods, "%s/%s has Standard-mode InferenceServices", example, env)
	return objs, pods
}

// Serving in Standard mode: KServe's controller turns each of kiln's
// Standard-mode InferenceServices into a Deployment, Service and HPA that
// carry what kiln asked for, its webhook adds the storage initializer
// (secured by kiln's ClusterStorageContainer) and the namespace's Pod
// Security level admits the pods. With a canary, both versions run and
// kiln's own Service and DestinationRule subsets select the pods of each.
func TestServingStandard(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	require.NoError(t, cl.startKServe(ctx), kserveLog())
	t.Logf("KServe up in %s", time.Since(start).Round(time.Second))

	t.Run("skin-lesion dev", func(t *testing.T) {
		serveEnv(t, "skin-lesion", "dev")
	})

	t.Run("fraud-detect staging", func(t *testing.T) {
		serveEnv(t, "fraud-detect", "staging")
	})

	t.Run("fraud-detect prod canary", func(t *testing.T) {
		objs, pods := serveEnv(t, "fraud-detect", "prod")
		require.Contains(t, pods, "scorer")
		require.Contains(t, pods, "scorer-canary")
		ns := pods["scorer"][0].Namespace
		// kiln's Service in front of both tracks.
		svc := find(t, objs, "Service", "scorer-serving")
		var all []corev1.Pod
		all = append(append(all, pods["scorer"]...), pods["scorer-canary"]...)
		require.NoError(t, cl.waitFor(ctx, time.Minute, "kiln's Service to select both versions' pods", func() (bool, error) {
			return strings.Join(endpointPods(t, ns, svc.GetName()), ",") == strings.Join(podNames(all), ","), nil
		}), "endpoints %v, pods %v", endpointPods(t, ns, svc.GetName()), podNames(all))
		t.Logf("Service %s: endpoints %v", svc.GetName(), endpointPods(t, ns, svc.GetName()))
		// The DestinationRule's subsets split them by track.
		dr := find(t, objs, "DestinationRule", "scorer")
		subsets, _, _ := unstructured.NestedSlice(dr.Object, "spec", "subsets")
		byTrack := map[string]string{"stable": "scorer", "canary": "scorer-canary"}
		for _, s := range subsets {
			sm := s.(map[string]any)
			name := sm["name"].(string)
			labels, _, _ := unstructured.NestedStringMap(sm, "labels")
			var matched []corev1.Pod
			for _, p := range all {
				ok := true
				for k, v := range labels {
					ok = ok && p.Labels[k] == v
				}
				if ok {
					matched = append(matched, p)
				}
			}
			assert.Equal(t, podNames(pods[byTrack[name]]), podNames(matched), "subset %s selects the pods of %s", name, byTrack[name])
		}
		// The routes as kiln renders them, admitted by their CRDs.
		for _, o := range objs {
			if o.GetKind() == "VirtualService" || o.GetKind() == "HTTPRoute" {
				ri, err := cl.resource(o)
				require.NoError(t, err)
				cur, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
				require.NoError(t, err, "%s %s", o.GetKind(), o.GetName())
				t.Logf("%s %s: weights %v", cur.GetKind(), cur.GetName(), routeWeights(cur))
			}
		}
		vs := find(t, objs, "VirtualService", "scorer")
		assert.Equal(t, map[string]int64{"stable": 80, "canary": 20}, routeWeights(vs), "the split kiln renders")
	})
}

// routeWeights are the weights of a VirtualService's "model" route, by subset.
func routeWeights(vs *unstructured.Unstructured) map[string]int64 {
	out := map[string]int64{}
	http, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for _, h := range http {
		hm := h.(map[string]any)
		if hm["name"] != "model" {
			continue
		}
		routes, _ := hm["route"].([]any)
		for _, r := range routes {
			rm := r.(map[string]any)
			subset, _, _ := unstructured.NestedString(rm, "destination", "subset")
			switch w := rm["weight"].(type) {
			case int64:
				out[subset] = w
			case float64: // decoded from YAML
				out[subset] = int64(w)
			}
		}
	}
	return out
}
