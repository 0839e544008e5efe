package render

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// object is an object of any kind, as a renderer of a kind render does
// not know would make it.
func object(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// fake declares kinds and adds the objects it is given.
type fake struct {
	kinds []Kind
	objs  []Object
}

func (fake) Name() string    { return "fake" }
func (f fake) Kinds() []Kind { return f.kinds }
func (f fake) Render(c *Context) diag.List {
	for _, o := range f.objs {
		c.Add(o, c.Origin("fake", "fake", o.GetName()))
	}
	return nil
}

// A kind declared by a renderer: a cluster-scoped one between the
// namespace and the quota, a workload with a wave of its own.
var (
	widgetClass = Kind{Group: "example.com", Version: "v1", Kind: "WidgetClass", Plural: "widgetclasses", ClusterScoped: true, Order: OrderNamespace + 1, Wave: -2}
	widget      = Kind{Group: "example.com", Version: "v1", Kind: "Widget", Plural: "widgets", Order: OrderWorkload, Wave: 3}
)

// Objects are applied in their kinds' order: namespace and policy,
// identities and RBAC, configuration, network policy, routing, then
// workloads; kinds of the same order and kinds with no descriptor go
// alphabetically, then by group, namespace and name.
func TestSetOrder(t *testing.T) {
	kinds, err := NewKinds(fake{kinds: []Kind{widgetClass, widget}})
	require.NoError(t, err)
	s := NewSetOf(kinds)
	for _, o := range []Object{
		object("apps/v1", "Deployment", "ml", "b"),
		object("example.com/v1", "Widget", "ml", "w"),
		object("v1", "PersistentVolumeClaim", "ml", "claim"),
		object("v1", "ConfigMap", "ml", "z"),
		object("v1", "ConfigMap", "a-first", "z"),
		object("v1", "ConfigMap", "ml", "a"),
		object("rbac.authorization.k8s.io/v1", "RoleBinding", "ml", "r"),
		object("rbac.authorization.k8s.io/v1", "Role", "ml", "r"),
		object("v1", "ServiceAccount", "ml", "sa"),
		object("v1", "LimitRange", "ml", "l"),
		object("v1", "ResourceQuota", "ml", "q"),
		object("example.com/v1", "WidgetClass", "", "c"),
		object("v1", "Namespace", "", "ml"),
		object("v1", "Service", "ml", "svc"),
		object("apps/v1", "Deployment", "ml", "a"),
		object("example.com/v1", "Gadget", "ml", "g"), // no descriptor
	} {
		require.Nil(t, s.Add(o, Origin{}))
	}
	var got []string
	for _, it := range s.Items() {
		got = append(got, it.GVK().Kind+" "+it.Object.GetNamespace()+"/"+it.Object.GetName())
	}
	assert.Equal(t, []string{
		"Namespace /ml",
		"WidgetClass /c",
		"ResourceQuota ml/q",
		"LimitRange ml/l",
		"ServiceAccount ml/sa",
		"Role ml/r",
		"RoleBinding ml/r",
		"ConfigMap a-first/z",
		"ConfigMap ml/a",
		"ConfigMap ml/z",
		"PersistentVolumeClaim ml/claim",
		"Service ml/svc",
		"Deployment ml/a",
		"Deployment ml/b",
		"Gadget ml/g",
		"Widget ml/w",
	}, got)
}

// Two entries rendering the same kind, namespace and name are an error
// naming both.
func TestSetCollision(t *testing.T) {
	s := NewSet()
	first := Origin{Path: "training.a", Pos: diag.Pos{File: "spec.cue", Line: 3}}
	require.Nil(t, s.Add(object("v1", "ConfigMap", "ml", "x"), first))
	d := s.Add(object("v1", "ConfigMap", "ml", "x"), Origin{Path: "serving.a", Pos: diag.Pos{File: "spec.cue", Line: 9}})
	require.NotNil(t, d)
	assert.Equal(t, "serving.a", d.Path)
	assert.Contains(t, d.Msg, "training.a")
	assert.Equal(t, []diag.Pos{first.Pos}, d.Related)
	assert.Nil(t, s.Add(object("v1", "ConfigMap", "other", "x"), first), "another namespace is another object")
	assert.Equal(t, 2, s.Len())
}

func renderFake(t *testing.T, f fake) *Result {
	t.Helper()
	env := &ir.Environment{Name: "dev", Namespace: "ml", Spec: &ir.Spec{}}
	res, diags := Render(context.Background(), &ir.System{Name: "demo", Environments: []*ir.Environment{env}}, Options{Renderers: []Renderer{f}})
	require.False(t, diags.HasErrors(), "%v", diags)
	return res
}

// Render gives namespaced objects the environment's namespace and none to
// cluster-scoped kinds, and every object its kind's sync wave: the
// platform wave (-1) for what workloads need in place, a declared kind's
// own, 0 for claims (which turn healthy only once used) and for kinds
// with no descriptor.
func TestRenderScopeAndWaves(t *testing.T) {
	res := renderFake(t, fake{kinds: []Kind{widgetClass, widget}, objs: []Object{
		object("v1", "Namespace", "", "ml"),
		object("v1", "ConfigMap", "", "cm"),
		object("v1", "PersistentVolumeClaim", "", "claim"),
		object("example.com/v1", "WidgetClass", "", "c"),
		object("example.com/v1", "Widget", "", "w"),
		object("example.com/v1", "Gadget", "", "g"),
		object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "cr"),
	}})
	type got struct{ namespace, wave string }
	have := map[string]got{}
	for _, it := range res.Environments[0].Items {
		have[it.GVK().Kind] = got{it.Object.GetNamespace(), it.Object.GetAnnotations()["argocd.argoproj.io/sync-wave"]}
	}
	assert.Equal(t, map[string]got{
		"Namespace":             {"", "-1"},
		"ConfigMap":             {"ml", "-1"},
		"PersistentVolumeClaim": {"ml", "0"},
		"WidgetClass":           {"", "-2"},
		"Widget":                {"ml", "3"},
		"Gadget":                {"ml", "0"},
		"ClusterRole":           {"", "-1"},
	}, have)
}

// A kind may be declared twice (pipelines and sweeps both emit Argo's
// kinds) only the same way; a descriptor needs a version, kind and plural.
func TestNewKinds(t *testing.T) {
	_, err := NewKinds(fake{kinds: []Kind{widget}}, fake{kinds: []Kind{widget}})
	require.NoError(t, err)
	other := widget
	other.Wave = 0
	_, err = NewKinds(fake{kinds: []Kind{widget}}, fake{kinds: []Kind{other}})
	assert.ErrorContains(t, err, "declared twice")
	noPlural := widget
	noPlural.Plural = ""
	_, err = NewKinds(fake{kinds: []Kind{noPlural}})
	assert.ErrorContains(t, err, "plural")
	// A core kind cannot be redefined either.
	cm := Kind{Version: "v1", Kind: "ConfigMap", Plural: "configmaps", Order: OrderWorkload}
	_, err = NewKinds(fake{kinds: []Kind{cm}})
	assert.Error(t, err)

	env := &ir.Environment{Name: "dev", Namespace: "ml", Spec: &ir.Spec{}}
	_, diags := Render(context.Background(), &ir.System{Name: "demo", Environments: []*ir.Environment{env}},
		Options{Renderers: []Renderer{fake{kinds: []Kind{widget}}, fake{kinds: []Kind{other}}}})
	assert.True(t, diags.HasErrors(), "Render refuses conflicting descriptors")

	assert.Equal(t, "v1", CoreKinds()[0].APIVersion(), "the core group has no group in apiVersion")
	assert.Equal(t, "example.com/v1", widget.APIVersion())
}

// needsRenderer declares needs, as workload renderers do, in an order the
// aggregate must not depend on.
type needsRenderer struct{ declare func(c *Context) }

func (needsRenderer) Name() string                  { return "needs" }
func (n needsRenderer) Render(c *Context) diag.List { n.declare(c); return nil }

// Needs are aggregated across renderers: rules deduplicated and sorted,
// verbs per kind merged, reasons sorted by path, resources once each.
func TestNeeds(t *testing.T) {
	c := &Context{System: &ir.System{Name: "demo"}, Env: &ir.Environment{Name: "dev"}, Set: NewSet()}
	assert.False(t, c.Needs().Workflows())
	logs := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}}
	runs := rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflows"}, Verbs: []string{"create", "get"}}
	pods := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}
	c.NeedWorkflowRule(runs)
	c.NeedWorkflowRule(logs)
	c.NeedWorkflowRule(pods)
	c.NeedWorkflowRule(logs)
	assert.True(t, c.Needs().Workflows(), "a workflow rule means workflows")
	assert.Equal(t, []rbacv1.PolicyRule{pods, logs, runs}, c.Needs().WorkflowRules())

	c.NeedJobAccess(widget, "get", "create")
	c.NeedJobAccess(widget, "delete", "get")
	c.NeedJobAccess(Kind{Group: "a.io", Kind: "Thing", Plural: "things"}, "create")
	assert.Equal(t, []JobAccess{
		{Group: "a.io", Plural: "things", Verbs: []string{"create"}},
		{Group: "example.com", Plural: "widgets", Verbs: []string{"create", "delete", "get"}},
	}, c.Needs().JobAccess())

	c.NeedPodSecurity("training.z", ir.Security{Profile: "baseline"})
	c.NeedPodSecurity("training.ok", ir.Security{Profile: "restricted"})
	c.NeedPodSecurity("training.ok2", ir.Security{})
	c.NeedBaseline(BaselineReason{Path: "sweeps.a.backend", Why: "Katib", Controller: true})
	assert.Equal(t, []BaselineReason{
		{Path: "sweeps.a.backend", Why: "Katib", Controller: true},
		{Path: "training.z.security.profile", Why: "training.z asks for it"},
	}, c.Needs().BaselineReasons())

	c.NeedResources(ir.Resources{GPUs: 1, MIG: "1g.10gb"})
	c.NeedResources(ir.Resources{GPUs: 1, MIG: "1g.10gb"})
	c.NeedResources(ir.Resources{GPUs: 0, MIG: "3g.40gb"}) // requests none
	c.NeedResources(ir.Resources{GPUs: 2})                 // plain GPUs: always capped
	assert.Equal(t, []string{"nvidia.com/mig-1g.10gb"}, c.Needs().Resources())

	c.NeedNamespaceLabel("k", "v")
	labels := c.Needs().NamespaceLabels()
	labels["k"] = "changed"
	assert.Equal(t, map[string]string{"k": "v"}, c.Needs().NamespaceLabels(), "a copy")
}

// Needs are per environment: Render starts each with none.
func TestNeedsPerEnvironment(t *testing.T) {
	// Environments render in parallel: what each one saw is kept by name.
	var mu sync.Mutex
	seen := map[string]bool{}
	declare := needsRenderer{declare: func(c *Context) {
		if c.Env.Name == "a" {
			c.NeedWorkflows()
		}
	}}
	read := needsRenderer{declare: func(c *Context) {
		mu.Lock()
		defer mu.Unlock()
		seen[c.Env.Name] = c.Needs().Workflows()
	}}
	envs := []*ir.Environment{{Name: "a", Namespace: "a", Spec: &ir.Spec{}}, {Name: "b", Namespace: "b", Spec: &ir.Spec{}}}
	_, diags := Render(context.Background(), &ir.System{Name: "demo", Environments: envs}, Options{Renderers: []Renderer{declare, read}})
	require.False(t, diags.HasErrors(), "%v", diags)
	assert.Equal(t, map[string]bool{"a": true, "b": false}, seen)
}

// A need declared after the platform renderer read them would be lost:
// Render reports the renderer order as an error.
func TestNeedAfterRead(t *testing.T) {
	reader := needsRenderer{declare: func(c *Context) { c.Needs() }}
	late := needsRenderer{declare: func(c *Context) { c.NeedWorkflows() }}
	envs := []*ir.Environment{{Name: "a", Namespace: "a", Spec: &ir.Spec{}}}
	_, diags := Render(context.Background(), &ir.System{Name: "demo", Environments: envs}, Options{Renderers: []Renderer{late, reader}})
	assert.False(t, diags.HasErrors())
	_, diags = Render(context.Background(), &ir.System{Name: "demo", Environments: envs}, Options{Renderers: []Renderer{reader, late}})
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), "before the platform renderer")
}
