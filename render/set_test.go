package render_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// object returns an object of the given apiVersion and kind.
func object(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

func origin(path string, line int) render.Origin {
	o := render.Origin{Path: path, Component: "training", Name: path}
	if line > 0 {
		o.Pos = diag.Pos{File: "spec.cue", Line: line, Col: 1}
	}
	return o
}

// Two entries that render the same object are both named, at the second
// one's position with the first as related; the first one stays. (Order,
// scope and sync waves: kind_test.go.)
func TestSetAddCollision(t *testing.T) {
	s := render.NewSet()
	require.Nil(t, s.Add(object("v1", "ConfigMap", "ns", "cfg"), origin("training.a", 3)))
	d := s.Add(object("v1", "ConfigMap", "ns", "cfg"), origin("training.b", 7))
	require.NotNil(t, d)
	assert.Equal(t, diag.Error, d.Severity)
	assert.Equal(t, "training.b", d.Path)
	assert.Equal(t, 7, d.Pos.Line)
	assert.Equal(t, `renders ConfigMap "cfg", which training.a renders too; rename one of them`, d.Msg)
	assert.Equal(t, []diag.Pos{{File: "spec.cue", Line: 3, Col: 1}}, d.Related)
	assert.Equal(t, 1, s.Len())
	assert.Equal(t, "training.a", s.Items()[0].Origin.Path, "the first object stays")

	// Without a position for the first entry there is nothing related.
	s = render.NewSet()
	require.Nil(t, s.Add(object("v1", "ConfigMap", "ns", "cfg"), origin("platform", 0)))
	d = s.Add(object("v1", "ConfigMap", "ns", "cfg"), origin("training.b", 7))
	require.NotNil(t, d)
	assert.Empty(t, d.Related)

	// Another namespace, kind or group is another object.
	for _, o := range []*unstructured.Unstructured{
		object("v1", "ConfigMap", "other", "cfg"),
		object("v1", "Secret", "ns", "cfg"),
		object("example.com/v1", "ConfigMap", "ns", "cfg"),
	} {
		assert.Nil(t, s.Add(o, origin("training.c", 9)), "%s %s", o.GetAPIVersion(), o.GetNamespace())
	}
	assert.Equal(t, 4, s.Len())
}

// An object without apiVersion or kind is a renderer bug.
func TestSetAddWithoutKindPanics(t *testing.T) {
	assert.Panics(t, func() { render.NewSet().Add(object("v1", "", "ns", "x"), origin("training.a", 1)) })
	assert.Panics(t, func() { render.NewSet().Add(object("", "ConfigMap", "ns", "x"), origin("training.a", 1)) })
}

// Replace swaps in a patched copy and keeps the origin; an object the set
// does not have is not added.
func TestSetReplace(t *testing.T) {
	s := render.NewSet()
	require.Nil(t, s.Add(object("v1", "ConfigMap", "ns", "cfg"), origin("training.a", 3)))
	patched := object("v1", "ConfigMap", "ns", "cfg")
	patched.SetLabels(map[string]string{"patched": "yes"})
	assert.True(t, s.Replace(patched))
	it := s.Items()[0]
	assert.Equal(t, "yes", it.Object.GetLabels()["patched"])
	assert.Equal(t, "training.a", it.Origin.Path)
	assert.False(t, s.Replace(object("v1", "ConfigMap", "ns", "other")))
	assert.Equal(t, 1, s.Len())
}

// fakeRenderer adds fixed objects; each call gets fresh copies.
type fakeRenderer struct {
	objs func() []*unstructured.Unstructured
}

func (fakeRenderer) Name() string { return "fake" }
func (f fakeRenderer) Render(c *render.Context) diag.List {
	for _, o := range f.objs() {
		c.Add(o, c.Origin("training.a", "training", "a"))
	}
	return nil
}

func renderFake(t *testing.T, envs []string, objs func() []*unstructured.Unstructured) (*render.Result, diag.List) {
	t.Helper()
	sys := &ir.System{Name: "sys", Namespace: "ns"}
	for _, e := range envs {
		sys.Environments = append(sys.Environments, &ir.Environment{Name: e, Namespace: "ns-" + e})
	}
	return render.Render(context.Background(), sys, render.Options{Renderers: []render.Renderer{fakeRenderer{objs}}, Partial: true})
}

// A collision fails the render, reported once for every environment it
// happens in alike.
func TestRenderCollisionFails(t *testing.T) {
	res, diags := renderFake(t, []string{"dev", "prod"}, func() []*unstructured.Unstructured {
		return []*unstructured.Unstructured{object("v1", "ConfigMap", "", "cfg"), object("v1", "ConfigMap", "", "cfg")}
	})
	assert.Nil(t, res)
	require.Len(t, diags, 1, "%v", diags)
	assert.Equal(t, `renders ConfigMap "cfg", which training.a renders too; rename one of them`, diags[0].Msg)
}
