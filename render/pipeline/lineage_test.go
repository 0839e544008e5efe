package pipeline_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const lineageSpec = `package t

name:      "demo"
namespace: "demo"
environments: dev: {}
images: kiln: "ghcr.io/acme/kiln:1"
datasets: {
	raw: uri: "s3://data/raw/"
	unused: uri: "s3://data/unused/"
}
artifacts: s3: {bucket: "runs", endpoint: "minio.minio.svc:9000", keyPrefix: "kiln", credentials: {secret: "minio", accessKey: "a", secretKey: "s"}}
serving: clf: model: {format: "sklearn", storageUri: "s3://models/v1"}
pipelines: p: {
	parameters: epochs: default: 3
	onExit: "notify"
	steps: {
		eval: {image: "t:1", datasets: ["raw"], outputs: parameters: ["acc", "model_uri"]}
		shard: {image: "t:1", withItems: [1, 2], outputs: parameters: ["n"]}
		ship: {
			after: ["eval"]
			when: "eval.acc > 0.5"
			inputs: parameters: model_uri: "eval.model_uri"
			promote: {serving: "clf", repository: {url: "https://git.example/x.git", credentials: secret: "git"}}
		}
		notify: {image: "t:1", outputs: parameters: ["sent"]}
	}
}
`

var workflowOutputRef = regexp.MustCompile(`\{\{workflow\.outputs\.parameters\.([^}]+)\}\}`)

// TestLineageRecordStep: every run writes its record from the exit
// handler, whatever its outcome; the record reads only global outputs
// some step exports; the promote step names the record the lineage step
// writes; and the step has no token and nothing but its container.
func TestLineageRecordStep(t *testing.T) {
	files, diags := renderFiles(t, map[string]string{"spec.cue": lineageSpec})
	require.False(t, diags.HasErrors(), "%v", diags)
	wt := workflowTemplates(t, files)[0]

	handler := template(wt, wt.Spec.OnExit)
	require.NotNil(t, handler)
	require.NotNil(t, handler.DAG, "the exit handler is kiln's DAG")
	var names []string
	for _, task := range handler.DAG.Tasks {
		names = append(names, task.Name)
		if task.Name == "lineage" {
			assert.Empty(t, task.When, "a failed run gets a record too")
		}
	}
	assert.Equal(t, []string{"lineage", "notify"}, names)

	rec := template(wt, "lineage")
	require.NotNil(t, rec)
	require.NotNil(t, rec.Container)
	assert.Equal(t, "ghcr.io/acme/kiln:1", rec.Container.Image)
	assert.Equal(t, []string{"kiln"}, rec.Container.Command)
	if assert.NotNil(t, rec.AutomountServiceAccountToken) {
		assert.False(t, *rec.AutomountServiceAccountToken)
	}
	args := strings.Join(rec.Container.Args, " ")
	assert.Contains(t, args, "--dataset raw=s3://data/raw/")
	assert.NotContains(t, args, "unused", "only datasets the steps read")
	assert.Contains(t, args, "--param epochs={{workflow.parameters.epochs}}")
	assert.NotContains(t, args, "shard.n", "a fanned-out step's items would overwrite one another")
	assert.NotContains(t, args, "notify.sent", "the user's exit step runs beside the record")
	assert.Regexp(t, `--spec-digest sha256:[0-9a-f]{64}`, args)

	// Every workflow output the record reads is exported by a step.
	exported := map[string]bool{}
	for _, tmpl := range wt.Spec.Templates {
		for _, p := range tmpl.Outputs.Parameters {
			if p.GlobalName != "" {
				exported[p.GlobalName] = true
			}
		}
	}
	var read []string
	for _, m := range workflowOutputRef.FindAllStringSubmatch(args, -1) {
		read = append(read, m[1])
		assert.True(t, exported[m[1]], "the record reads %s, which no step exports", m[1])
	}
	slices.Sort(read)
	assert.Equal(t, []string{"eval__acc", "eval__model_uri", "ship__kiln-promotion"}, read)

	// The record is stored at the key the promote step writes into the spec.
	uri := argAfter(rec.Container.Args, "--uri")
	assert.Equal(t, "s3://runs/kiln/lineage/demo/demo/p/{{workflow.name}}.json", uri)
	require.Len(t, rec.Outputs.Artifacts, 1)
	art := rec.Outputs.Artifacts[0]
	require.NotNil(t, art.S3)
	assert.Equal(t, uri, "s3://runs/"+art.S3.Key)
	assert.NotNil(t, art.Archive.None, "stored as JSON, not as a tar.gz")
	assert.Equal(t, argAfter(rec.Container.Args, "--file"), art.Path)
	require.Len(t, rec.Outputs.Parameters, 1)
	assert.Equal(t, "kiln-lineage", rec.Outputs.Parameters[0].GlobalName)
	assert.Equal(t, argAfter(rec.Container.Args, "--uri-file"), rec.Outputs.Parameters[0].ValueFrom.Path)
	assert.Equal(t, uri, argAfter(template(wt, "ship").Container.Args, "--lineage"))
	assert.NotNil(t, wt.Spec.ArtifactRepositoryRef)
}

// argAfter is the value after name in args.
func argAfter(args []string, name string) string {
	if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// TestLineageDigestFollowsMeaning: the digest changes with what the
// pipeline does, not with the spec's layout or the environment's name.
func TestLineageDigestFollowsMeaning(t *testing.T) {
	digest := func(spec string) string {
		files, diags := renderFiles(t, map[string]string{"spec.cue": spec})
		require.False(t, diags.HasErrors(), "%v", diags)
		return argAfter(template(workflowTemplates(t, files)[0], "lineage").Container.Args, "--spec-digest")
	}
	base := digest(lineageSpec)
	assert.Equal(t, base, digest("// a comment\n"+strings.Replace(lineageSpec, "\tonExit: \"notify\"\n", "", 1)+"pipelines: p: onExit: \"notify\"\n"))
	assert.NotEqual(t, base, digest(strings.Replace(lineageSpec, "default: 3", "default: 4", 1)))
}

func TestLineageOptOutAndRequirements(t *testing.T) {
	files, diags := renderFiles(t, map[string]string{"spec.cue": lineageSpec + "pipelines: p: lineage: false\n"})
	require.False(t, diags.HasErrors(), "%v", diags)
	wt := workflowTemplates(t, files)[0]
	assert.Nil(t, template(wt, "lineage"))
	assert.Equal(t, "notify", wt.Spec.OnExit, "without a record the user's step is the handler again")
	for _, tmpl := range wt.Spec.Templates {
		for _, p := range tmpl.Outputs.Parameters {
			assert.Empty(t, p.GlobalName, tmpl.Name)
		}
		if tmpl.Container != nil {
			assert.NotContains(t, tmpl.Container.Args, "--lineage", tmpl.Name)
		}
	}

	// Without a kiln image nothing is recorded, unless asked for.
	noKiln := strings.Replace(lineageSpec, `images: kiln: "ghcr.io/acme/kiln:1"`, "", 1)
	noKiln = strings.Replace(noKiln, "promote: {serving", `promote: {image: "ghcr.io/acme/kiln:2", serving`, 1)
	files, diags = renderFiles(t, map[string]string{"spec.cue": noKiln})
	require.False(t, diags.HasErrors(), "%v", diags)
	assert.Equal(t, "ghcr.io/acme/kiln:2", template(workflowTemplates(t, files)[0], "lineage").Container.Image, "the promote step's kiln image")

	plain := `package t
name: "demo"
namespace: "demo"
environments: dev: {}
pipelines: p: steps: a: {image: "t:1", outputs: parameters: ["x"]}
`
	files, diags = renderFiles(t, map[string]string{"spec.cue": plain})
	require.False(t, diags.HasErrors(), "%v", diags)
	wt = workflowTemplates(t, files)[0]
	assert.Empty(t, wt.Spec.OnExit)
	assert.Equal(t, []wfv1.Parameter{{Name: "x", ValueFrom: &wfv1.ValueFrom{Path: "/tmp/outputs/x", Default: wfv1.AnyStringPtr("")}}}, template(wt, "a").Outputs.Parameters)

	_, diags = renderFiles(t, map[string]string{"spec.cue": plain + "pipelines: p: lineage: true\n"})
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), "pipelines.p.lineage")
	assert.Contains(t, diags.Error(), "no artifact repository")
}
