package pipeline

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/pod"
)

// A pipeline whose steps run an image it builds (images.<name>.build)
// starts with a step that builds and pushes it with Kaniko; the steps that
// run the image depend on that step and run the digest it pushed, handed
// to them as the input parameter imageParam, never the tag, so a run is
// never a mix of two builds and the record says which one ran.

// imageParam is the input parameter that gives a step the image a build
// step of the same run pushed, as repository@sha256:….
const imageParam = "kiln-image"

// digestOutput is a build step's output parameter: the digest Kaniko
// pushed (--digest-file).
const digestOutput = "digest"

// Where the build container keeps its outputs and finds the registry
// credentials. Both are volumes, which Kaniko leaves out of the image it
// snapshots.
const (
	buildOutputDir    = "/kiln/build"
	buildDockerConfig = "/kaniko/.docker"
	// DockerConfigKey is the key of a kubernetes.io/dockerconfigjson
	// Secret, which push.key defaults to.
	DockerConfigKey = ".dockerconfigjson"
)

// buildCapabilities are the capabilities the build container keeps: a
// Dockerfile's RUN lines run as root in it and change owners and modes
// (CHOWN, FOWNER, FSETID), write files that are not root's (DAC_OVERRIDE),
// switch users (SETUID, SETGID, for USER and package managers that drop
// privileges), and layers carry file capabilities (SETFCAP). All are in
// Pod Security baseline's allowed set; everything else is dropped.
var buildCapabilities = []corev1.Capability{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETFCAP", "SETGID", "SETUID"}

// imageBuild is an image a pipeline builds, and the DAG task that does.
type imageBuild struct {
	image string // the images entry
	task  string
	b     *ir.ImageBuild
}

// builds are the images a pipeline builds, by images entry, and the step
// each of its steps runs (by step).
type builds struct {
	byImage map[string]*imageBuild
	byStep  map[string]*imageBuild
}

// planBuilds finds the steps that run a built image: a container step
// whose image is the image's ref, or a training step whose training
// entry's image is. The compiler substituted references, so refs compare
// as strings; it also refused two images entries with one ref, one of
// them built. The user's exit step runs the ref: the handler cannot wait
// for a task.
func planBuilds(env *ir.Environment, g *graph) builds {
	s := env.Spec
	bs := builds{byImage: map[string]*imageBuild{}, byStep: map[string]*imageBuild{}}
	if len(s.Builds) == 0 {
		return bs
	}
	byRef := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(s.Builds)) {
		byRef[s.Builds[name].Ref] = name
	}
	for _, n := range g.stepNames() {
		if n == g.p.OnExit {
			continue
		}
		st := g.steps[n]
		img := st.Image
		if t := s.Training[st.Training]; st.Training != "" && t != nil {
			img = t.Image
		} else if st.Training != "" || st.Promote != nil {
			continue
		}
		name, ok := byRef[img]
		if !ok || img == "" {
			continue
		}
		b := bs.byImage[name]
		if b == nil {
			b = &imageBuild{image: name, b: s.Builds[name]}
			bs.byImage[name] = b
		}
		bs.byStep[n] = b
	}
	taken := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(bs.byImage)) {
		t := freeName(g, "build-"+render.ObjectName(name), "kiln-build-"+render.ObjectName(name))
		for taken[t] {
			t += "-image"
		}
		taken[t] = true
		bs.byImage[name].task = t
	}
	return bs
}

// tasks lists the builds in the order of their images' names.
func (bs builds) tasks() []*imageBuild {
	var out []*imageBuild
	for _, name := range slices.Sorted(maps.Keys(bs.byImage)) {
		out = append(out, bs.byImage[name])
	}
	return out
}

// Repository is an image reference without its tag: what a digest is
// appended to.
func Repository(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i]
	}
	return ref
}

// pinnedImage is the image a step of the run runs: the repository at the
// digest the build step pushed, as a DAG task argument.
func (b *imageBuild) pinnedImage() string {
	return Repository(b.b.Ref) + "@{{tasks." + b.task + ".outputs.parameters." + digestOutput + "}}"
}

// useBuild makes a step's template run the image its build pushed: it
// takes the image as an input parameter and depends on the build.
func useBuild(b *imageBuild, tmpl *wfv1.Template, task *wfv1.DAGTask) {
	if tmpl.Container != nil {
		tmpl.Container.Image = argo.InputParameter(imageParam)
	}
	tmpl.Inputs.Parameters = append(tmpl.Inputs.Parameters, wfv1.Parameter{Name: imageParam})
	task.Arguments.Parameters = append(task.Arguments.Parameters, wfv1.Parameter{Name: imageParam, Value: wfv1.AnyStringPtr(b.pinnedImage())})
	if task.Depends == "" {
		task.Depends = b.task
	} else {
		task.Depends += " && " + b.task
	}
}

// commitRE matches a full Git commit hash, which Kaniko checks out after
// cloning; anything else is a branch or tag it clones.
var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// kanikoArgs are the executor's arguments for a build: clone the context
// (git:// is Kaniko's form for a repository it clones over HTTPS), build
// the Dockerfile, push to ref and write the digest.
func kanikoArgs(b *ir.ImageBuild) []string {
	repo, rev, dir := b.Source()
	gitCtx := "git://" + strings.TrimPrefix(repo, "https://")
	var args []string
	switch {
	case rev == "":
	case strings.HasPrefix(rev, "refs/"):
		gitCtx += "#" + rev
	case commitRE.MatchString(rev):
		// The default branch, then the commit.
		gitCtx += "##" + rev
	default:
		args = append(args, "--git=branch="+rev)
	}
	args = append([]string{"--context=" + gitCtx}, args...)
	if dir != "" {
		args = append(args, "--context-sub-path="+dir)
	}
	args = append(args,
		"--dockerfile="+b.Dockerfile,
		"--destination="+b.Ref,
		"--digest-file="+buildOutputDir+"/"+digestOutput,
	)
	for _, k := range slices.Sorted(maps.Keys(b.Args)) {
		args = append(args, "--build-arg="+k+"="+b.Args[k])
	}
	return args
}

// buildTemplate is the step that builds and pushes an image with Kaniko.
// It runs as root under Pod Security baseline, which the spec asked for
// (build.security; the compiler refuses a build without it), with
// everything baseline lets it drop dropped.
func buildTemplate(env *ir.Environment, g *graph, b *imageBuild, sa string) wfv1.Template {
	sec := g.p.Security
	sec.Profile = render.PodSecurityBaseline
	envs := map[string]ir.EnvVar{"DOCKER_CONFIG": {Value: buildDockerConfig}}
	if b.b.Credentials != nil {
		c := *b.b.Credentials
		if c.Key == "" {
			c.Key = GitTokenKey
		}
		envs["GIT_TOKEN"] = ir.EnvVar{Secret: &c}
	}
	in := pod.Input{
		Image: b.b.Builder,
		// Argo's executor runs the command it is given: the executor
		// image's entrypoint, named so that Argo need not look it up.
		Command:   []string{"/kaniko/executor"},
		Args:      kanikoArgs(b.b),
		Env:       envs,
		Resources: b.b.Resources,
		Security:  sec,
	}
	t := argo.ContainerTemplate(env, b.task, in, sa)
	c := t.Container
	c.SecurityContext.RunAsUser = new(int64(0))
	c.SecurityContext.Capabilities.Add = buildCapabilities
	key := b.b.Push.Key
	if key == "" {
		key = DockerConfigKey
	}
	t.Volumes = append(t.Volumes,
		corev1.Volume{Name: "push-credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: b.b.Push.Secret,
			Items:      []corev1.KeyToPath{{Key: key, Path: "config.json"}},
		}}},
		corev1.Volume{Name: "build-output", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	)
	c.VolumeMounts = append(c.VolumeMounts,
		corev1.VolumeMount{Name: "push-credentials", MountPath: buildDockerConfig, ReadOnly: true},
		corev1.VolumeMount{Name: "build-output", MountPath: buildOutputDir},
	)
	out := wfv1.Parameter{Name: digestOutput, ValueFrom: &wfv1.ValueFrom{Path: buildOutputDir + "/" + digestOutput, Default: wfv1.AnyStringPtr("")}}
	if g.lineage {
		out.GlobalName = globalOutput(b.task, digestOutput)
	}
	t.Outputs.Parameters = []wfv1.Parameter{out}
	t.Timeout = b.b.Timeout
	return t
}

// unbuilt warns about builds no pipeline runs: nothing would build
// their images, and entries outside pipelines run the ref as it is.
func unbuilt(c *render.Context) diag.List {
	s := c.Env.Spec
	used := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(s.Pipelines)) {
		for img := range planBuilds(c.Env, newGraph(name, s.Pipelines[name])).byImage {
			used[img] = true
		}
	}
	var diags diag.List
	for _, name := range slices.Sorted(maps.Keys(s.Builds)) {
		if !used[name] {
			p := ir.Path("images", name, "build")
			diags.Add(diag.Warnf(c.Env.Sources.Pos(p), p, "no pipeline step runs images.%s (%s), so no pipeline builds it; a pipeline builds the images its container and training steps run", name, s.Builds[name].Ref))
		}
	}
	return diags
}
