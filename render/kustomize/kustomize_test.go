package kustomize_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/kustomize"
)

const base = `package x
name: "x"
namespace: "x"
// No baseline warning for the two-worker job's init-pytorch.
trainingOperator: restricted: true
training: bert: {
	framework: "pytorch"
	image:     "ghcr.io/acme/bert:1.0"
	workers:   2
}
`

func renderWith(t *testing.T, env string) (*render.Result, diag.List) {
	t.Helper()
	spec := base + "environments: dev: " + env + "\nenvironments: prod: {}\n"
	sys, diags := compiler.Compile(context.Background(), "/virtual/spec", compiler.Options{Overlay: map[string][]byte{"spec.cue": []byte(spec)}})
	require.False(t, diags.HasErrors(), "%v", diags)
	return render.Render(context.Background(), sys, render.Options{Renderers: plugins.Builtins()})
}

func file(t *testing.T, res *render.Result, p string) string {
	t.Helper()
	files, err := render.Files(res)
	require.NoError(t, err)
	b, ok := files[p]
	require.True(t, ok, "no file %s", p)
	return string(b)
}

// jobFile is the path of the standalone job bert in env, whose name ends
// in a hash of its content.
func jobFile(t *testing.T, res *render.Result, env string) string {
	t.Helper()
	files, err := render.Files(res)
	require.NoError(t, err)
	for p := range files {
		if rest, ok := strings.CutPrefix(p, env+"/x/pytorchjob-bert-"); ok && len(rest) == len("01234567.yaml") {
			return p
		}
	}
	t.Fatalf("no job bert in %s", env)
	return ""
}

func TestMergeAndJSONPatches(t *testing.T) {
	res, diags := renderWith(t, `{patches: {
		"a-labels": {
			target: {kind: "PyTorchJob"}
			merge: metadata: labels: team: "nlp"
		}
		"b-priority": {
			target: {group: "kubeflow.org", kind: "PyTorchJob", name: "ber."}
			ops: [{op: "add", path: "/spec/runPolicy/schedulingPolicy", value: {priorityClass: "high"}}]
		}
		"c-quota": {
			target: {kind: "ResourceQuota"}
			merge: spec: hard: "requests.cpu": "16"
		}
	}}`)
	require.False(t, diags.HasErrors(), "%v", diags)
	devJob, prodJob := jobFile(t, res, "dev"), jobFile(t, res, "prod")
	job := file(t, res, devJob)
	assert.Contains(t, job, "    team: nlp\n")
	assert.Contains(t, job, "    schedulingPolicy:\n      priorityClass: high\n")
	// kiln's own labels and annotations are still there.
	assert.Contains(t, job, "kiln.dev/path: training.bert")
	assert.Contains(t, file(t, res, "dev/x/resourcequota-x.yaml"), "requests.cpu: \"16\"")
	// Other environments are untouched.
	assert.NotContains(t, file(t, res, prodJob), "team: nlp")
	// The patched job is a different job: its content name differs.
	assert.NotEqual(t, strings.TrimPrefix(devJob, "dev/"), strings.TrimPrefix(prodJob, "prod/"))
	// Still one file per object, listed in the kustomization.
	assert.Contains(t, file(t, res, "dev/x/kustomization.yaml"), "- "+strings.TrimPrefix(devJob, "dev/x/")+"\n")
}

func TestPatchErrors(t *testing.T) {
	for _, tc := range []struct {
		name, env, path, msg string
	}{
		{"no match", `{patches: typo: {target: {kind: "PyTorchJob", name: "bret"}, merge: metadata: labels: a: "b"}}`,
			"environments.dev.patches.typo.target", "patch typo matches no object in environment dev; the PyTorchJob objects are bert"},
		{"no kind", `{patches: typo: {target: {kind: "TFJob"}, merge: metadata: labels: a: "b"}}`,
			"environments.dev.patches.typo.target", "patch typo matches no object in environment dev; it renders no TFJob (kinds: Namespace, PyTorchJob, ResourceQuota, ServiceAccount)"},
		{"neither", `{patches: empty: {target: {kind: "PyTorchJob"}}}`,
			"environments.dev.patches.empty", "patch empty has neither merge (a strategic merge patch) nor ops (a JSON patch); set one of them"},
		{"both", `{patches: both: {target: {kind: "PyTorchJob"}, merge: {}, ops: []}}`,
			"environments.dev.patches.both", "patch both has both merge and ops; split it into two patches"},
		{"bad op", `{patches: bad: {target: {kind: "PyTorchJob"}, ops: [{op: "replace", path: "/spec/nothing/here", value: 1}]}}`,
			"environments.dev.patches.bad", "patch bad does not apply:"},
		{"rename", `{patches: rename: {target: {kind: "PyTorchJob"}, ops: [{op: "replace", path: "/metadata/name", value: "other"}]}}`,
			"environments.dev.patches", "the patches change the kind, namespace or name of PyTorchJob other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := renderWith(t, tc.env)
			require.True(t, diags.HasErrors(), "want an error")
			require.Len(t, diags, 1, "%v", diags)
			assert.Equal(t, tc.path, diags[0].Path)
			assert.True(t, strings.HasPrefix(diags[0].Msg, tc.msg), "message %q does not start with %q", diags[0].Msg, tc.msg)
			assert.True(t, diags[0].Pos.IsValid(), "no position")
		})
	}
}

func TestBuild(t *testing.T) {
	res, diags := renderWith(t, `{}`)
	require.False(t, diags.HasErrors(), "%v", diags)
	files, err := render.Files(res)
	require.NoError(t, err)
	m, err := kustomize.Build(files, "dev/x")
	require.NoError(t, err)
	assert.Equal(t, len(res.Environments[0].Items), m.Size())
	// A kustomization naming a file that is not there fails.
	files["dev/x/kustomization.yaml"] = append(files["dev/x/kustomization.yaml"], []byte("- missing.yaml\n")...)
	_, err = kustomize.Build(files, "dev/x")
	require.Error(t, err)
}

// failing stands in for a renderer that reports an error and so adds no
// object; silent adds none and says nothing.
type failing struct{ report bool }

func (failing) Name() string { return "failing" }

func (f failing) Render(c *render.Context) diag.List {
	if f.report {
		c.Errorf("training.bert", "cannot render bert")
	}
	return nil
}

// A patch whose target is missing because an earlier renderer failed gets
// no follow-on error: the user is sent to the first problem only. The
// same missing target without an earlier error is reported.
func TestNoFollowOnError(t *testing.T) {
	spec := base + `environments: dev: patches: labels: {target: {kind: "PyTorchJob"}, merge: metadata: labels: a: "b"}` + "\n"
	sys, diags := compiler.Compile(context.Background(), "/virtual/spec", compiler.Options{Overlay: map[string][]byte{"spec.cue": []byte(spec)}})
	require.False(t, diags.HasErrors(), "%v", diags)
	for _, tc := range []struct {
		report bool
		want   []string
	}{
		{true, []string{"cannot render bert"}},
		{false, []string{"patch labels matches no object in environment dev"}},
	} {
		_, diags := render.Render(context.Background(), sys, render.Options{Renderers: []render.Renderer{failing{tc.report}, kustomize.Patcher{}}})
		var got []string
		for _, d := range diags {
			got = append(got, strings.SplitN(d.Msg, ";", 2)[0])
		}
		assert.Equal(t, tc.want, got, "earlier error: %v", tc.report)
	}
}
