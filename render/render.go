package render

import (
	"context"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// Renderer turns part of an environment's spec into objects. Built-in
// renderers and plugins implement the same interface; the CLI passes the
// registry's list to [Render], so nothing registers itself behind the
// scenes.
type Renderer interface {
	// Name identifies the renderer in messages, e.g. "training".
	Name() string
	// Render adds the renderer's objects for one environment to c.Set and
	// returns problems it finds (GPU budgets, names operators cannot take).
	Render(c *Context) diag.List
}

// SystemRenderer is implemented by renderers that also describe the system
// as a whole, from every rendered environment: the Argo CD AppProject and
// Applications. [Render] calls RenderSystem once, after every environment
// is rendered, transformed and finished, and only when every environment
// of the spec was rendered (a system-level object drawn from some of them
// would be wrong).
type SystemRenderer interface {
	Renderer
	RenderSystem(c *SystemContext) diag.List
}

// Transformer is implemented by renderers that change an environment's
// finished objects after every renderer has added its own: kustomize
// patches the spec declares. Transform may replace objects in c.Set (with
// [Set.Replace]) but not add or remove them.
type Transformer interface {
	Renderer
	Transform(c *Context) diag.List
}

// SystemContext is what a SystemRenderer sees: the system, its rendered
// environments, and the directories it adds.
type SystemContext struct {
	System       *ir.System
	Environments []Environment
	Dirs         []Directory
	// Kinds describes every kind the renderers emit.
	Kinds *Kinds
}

// Context is what a renderer sees: the system, one environment, and the
// set it adds objects to.
type Context struct {
	System *ir.System
	Env    *ir.Environment
	Set    *Set
	// Kinds describes every kind the renderers emit.
	Kinds *Kinds
	needs Needs
	diags diag.List
	// failed: a renderer reported an error in this environment.
	failed bool
}

// Failed reports whether a renderer already reported an error in this
// environment. A transformer that finds an object missing need not say so
// too: the object may be missing because of that error, and a follow-on
// message would send the user after the wrong problem.
func (c *Context) Failed() bool { return c.failed }

// Origin returns the origin of an object rendered from the entry at path.
func (c *Context) Origin(path, component, name string) Origin {
	return Origin{Path: path, Pos: c.Env.Sources.Pos(path), Component: component, Name: name}
}

// Add puts an object in the set, recording a collision as a diagnostic.
func (c *Context) Add(obj Object, origin Origin) {
	if obj.GetNamespace() == "" && c.Set.kinds.namespaced(obj.GetObjectKind().GroupVersionKind().GroupKind()) {
		obj.SetNamespace(c.Env.Namespace)
	}
	if d := c.Set.Add(obj, origin); d != nil {
		c.diags.Add(*d)
	}
}

// Errorf reports a problem with the value at path in this environment.
func (c *Context) Errorf(path, format string, args ...any) {
	c.diags.Errorf(c.Env.Sources.Pos(path), path, format, args...)
}

// Options tune rendering.
type Options struct {
	// Renderers run in order for every environment.
	Renderers []Renderer
	// Partial says the system was compiled for some of its environments
	// only (kiln render -e): system-level directories are not rendered.
	Partial bool
}

// Environment is the rendered objects of one environment.
type Environment struct {
	Name string
	// Dir is the environment's output directory, relative to the output
	// root: <environment>/<system>.
	Dir   string
	Items []Item
	// GPUDemands is what the entries declared they may hold of GPUs at
	// once (Needs.GPUDemands), and GPUQuota the environment's budget,
	// for the summary of kiln diff.
	GPUDemands []GPUDemand
	GPUQuota   int
}

// Directory is a rendered directory that belongs to the system as a whole
// rather than to one environment, such as argocd/<system>: it is written
// beside the environment directories and never inside one, so no
// environment's Application syncs it.
type Directory struct {
	// Dir is relative to the output root.
	Dir string
	// Items are the objects, one file each, listed in the directory's
	// kustomization.yaml.
	Items []Item
	// Files are further files by name (not objects to apply, such as a
	// patch for Argo CD's own ConfigMap), written as they are and not
	// listed in kustomization.yaml.
	Files map[string][]byte
}

// Result is a rendered system.
type Result struct {
	System       *ir.System
	Environments []Environment
	// Dirs are the system-level directories, sorted by Dir; empty after
	// a partial render.
	Dirs []Directory
}

// Render runs every renderer for every environment of sys, then the
// transformers (kustomize patches) on the finished objects of each
// environment, then, unless opts.Partial, the system renderers (Argo CD)
// over all of them. Objects are finished (labels, annotations, namespaces,
// sync waves) here, once, so every renderer gets them right.
func Render(ctx context.Context, sys *ir.System, opts Options) (*Result, diag.List) {
	res := &Result{System: sys}
	var diags diag.List
	kinds, err := NewKinds(opts.Renderers...)
	if err != nil {
		diags.Errorf(diag.Pos{}, "", "internal error: %v", err)
		return nil, diags
	}
	// Environments are rendered in parallel, each into its own slot, and
	// their results and diagnostics are taken in the environments' order,
	// so the result does not depend on scheduling.
	envs := make([]Environment, len(sys.Environments))
	envDiags := make([]diag.List, len(sys.Environments))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(sys.Environments)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				envs[i], envDiags[i] = renderEnvironment(sys, sys.Environments[i], kinds, opts)
			}
		}()
	}
	rendered := 0
	for i := range sys.Environments {
		if err := ctx.Err(); err != nil {
			diags.Errorf(diag.Pos{}, "", "%v", err)
			break
		}
		next <- i
		rendered++
	}
	close(next)
	wg.Wait()
	for i := range rendered {
		diags = append(diags, envDiags[i]...)
		res.Environments = append(res.Environments, envs[i])
	}
	if !opts.Partial && !diags.HasErrors() {
		sc := &SystemContext{System: sys, Environments: res.Environments, Kinds: kinds}
		for _, r := range opts.Renderers {
			if sr, ok := r.(SystemRenderer); ok {
				diags = append(diags, sr.RenderSystem(sc)...)
			}
		}
		// System-level objects are labelled like every other and get
		// their kind's sync wave (an AppProject before the
		// Applications that name it, when an app of apps syncs them).
		for _, d := range sc.Dirs {
			for _, it := range d.Items {
				finish(sys, kinds, it)
			}
		}
		res.Dirs = sc.Dirs
		slices.SortFunc(res.Dirs, func(a, b Directory) int { return strings.Compare(a.Dir, b.Dir) })
	}
	diags = diags.MergeEnvs(sys.EnvironmentNames())
	if diags.HasErrors() {
		return nil, diags
	}
	return res, diags
}

// renderEnvironment runs every renderer for one environment, finishes its
// objects, runs the transformers and names objects by their content. It
// shares nothing it writes with other environments, so environments are
// rendered in parallel.
func renderEnvironment(sys *ir.System, env *ir.Environment, kinds *Kinds, opts Options) (Environment, diag.List) {
	var diags diag.List
	c := &Context{System: sys, Env: env, Set: NewSetOf(kinds), Kinds: kinds}
	var envDiags diag.List
	for _, r := range opts.Renderers {
		envDiags = append(envDiags, r.Render(c)...)
	}
	envDiags = append(envDiags, c.diags...)
	c.failed = envDiags.HasErrors()
	for _, d := range envDiags {
		diags.Add(withEnvironment(d, env.Name, len(sys.Environments)))
	}
	// Each object is finished on its own: the set's order does not
	// matter here, so it is not sorted for it.
	for _, it := range c.Set.items {
		finish(sys, kinds, it)
	}
	c.diags = nil
	for _, r := range opts.Renderers {
		if t, ok := r.(Transformer); ok {
			for _, d := range t.Transform(c) {
				diags.Add(withEnvironment(d, env.Name, len(sys.Environments)))
			}
		}
	}
	for _, d := range c.diags {
		diags.Add(withEnvironment(d, env.Name, len(sys.Environments)))
	}
	if err := nameByContent(c.Set); err != nil {
		diags.Errorf(diag.Pos{}, "", "naming objects by their content: %v", err)
	}
	return Environment{Name: env.Name, Dir: env.Name + "/" + sys.Name, Items: c.Set.Items(),
		GPUDemands: c.needs.GPUDemands(), GPUQuota: env.GPU.Quota}, diags
}

// withEnvironment says which environment a diagnostic is about, when the
// spec has several; [diag.List.MergeEnvs] merges what several report.
func withEnvironment(d diag.Diagnostic, env string, envs int) diag.Diagnostic {
	if envs > 1 {
		d.Envs = []string{env}
	}
	return d
}

// finish applies what every object carries: the recommended labels, the
// system's own labels, the entry's CUE path and the Argo CD sync wave.
// Nothing that depends on where the entry is written in the spec (a line,
// a file, the order of fields) goes on an object: an edit that does not
// change an entry's meaning must not change its objects, or reviewers see
// noise, Argo CD sees drift and KServe, which copies an
// InferenceService's annotations into its revision, rolls out model
// servers nobody changed. `kiln explain` finds positions in the spec.
func finish(sys *ir.System, kinds *Kinds, it Item) {
	o := it.Object
	labels := map[string]string{}
	maps.Copy(labels, sys.Labels)
	maps.Copy(labels, o.GetLabels())
	labels[LabelPartOf] = sys.Name
	labels[LabelManagedBy] = ManagedBy
	if it.Origin.Name != "" {
		labels[LabelName] = it.Origin.Name
	}
	if it.Origin.Component != "" {
		labels[LabelComponent] = it.Origin.Component
	}
	o.SetLabels(labels)
	ann := map[string]string{}
	maps.Copy(ann, o.GetAnnotations())
	if it.Origin.Path != "" {
		ann[AnnotationPath] = it.Origin.Path
	}
	ann["argocd.argoproj.io/sync-wave"] = kinds.SyncWave(it.GVK().GroupKind())
	o.SetAnnotations(ann)
}
