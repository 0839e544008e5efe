package argocd

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// Component is the app.kubernetes.io/component of the Argo CD objects.
const Component = "gitops"

// Dir is the top-level output directory of the Argo CD objects; each
// system's are in Dir/<system>.
const Dir = "argocd"

// HealthFile is the argocd-cm patch holding the Lua health checks.
const HealthFile = "argocd-cm-health.yaml"

// Renderer renders the Argo CD objects of a system with a gitops section.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "argocd" }

// Render implements render.Renderer. Argo CD objects describe the system as
// a whole, so they are made in RenderSystem; per environment there is only
// a name to check.
func (Renderer) Render(c *render.Context) diag.List {
	if c.System.GitOps == nil || c.Env.Name != Dir {
		return nil
	}
	var l diag.List
	path := ir.Path("environments", c.Env.Name)
	l.Errorf(c.System.Sources.Pos(path), path, "environment %s would render into %s/%s/, where the Argo CD objects go; rename the environment", Dir, Dir, c.System.Name)
	return l
}

// RenderSystem implements render.SystemRenderer.
func (Renderer) RenderSystem(c *render.SystemContext) diag.List {
	sys, g := c.System, c.System.GitOps
	if g == nil {
		return nil
	}
	envs := map[string]*ir.Environment{}
	for _, e := range sys.Environments {
		envs[e.Name] = e
	}
	var diags diag.List
	if g.ProjectName(sys) == "default" {
		// kiln's AppProject would replace Argo CD's own default
		// project, and its whitelists would lock every other
		// application out.
		path := "gitops.project"
		if g.Project == "" {
			path = "name"
		}
		diags.Errorf(sys.Sources.Pos(path), path, `the AppProject would be named "default", which is Argo CD's own project; set gitops.project to a name of the system's own`)
	}
	diags = append(diags, checkDestinations(sys)...)
	diags = append(diags, checkIgnoredKinds(sys, c.Environments)...)
	dir := render.Directory{Dir: Dir + "/" + sys.Name}
	origin := func(path string) render.Origin {
		return render.Origin{Path: path, Pos: sys.Sources.Pos(path), Component: Component}
	}

	dir.Items = append(dir.Items, render.Item{Object: NewProject(sys, c.Environments), Origin: origin("gitops")})
	for _, re := range c.Environments {
		env := envs[re.Name]
		dir.Items = append(dir.Items, render.Item{
			Object: NewApplication(sys, c.Kinds, env, re),
			Origin: origin(ir.Path("environments", env.Name)),
		})
	}
	if g.HealthChecks {
		b, err := HealthPatch(sys, c.Kinds, c.Environments)
		if err != nil {
			diags.Errorf(sys.Sources.Pos("gitops"), "gitops", "internal error: %v", err)
		} else if b != nil {
			dir.Files = map[string][]byte{HealthFile: b}
		}
	}
	c.Dirs = append(c.Dirs, dir)
	return diags
}

// checkDestinations reports two environments deployed to the same
// namespace of the same cluster: their Applications would fight over the
// same objects (the Namespace first of all).
func checkDestinations(sys *ir.System) diag.List {
	var l diag.List
	seen := map[Destination]string{}
	for _, e := range sys.Environments {
		d := destination(e)
		if prev, ok := seen[d]; ok {
			path := ir.Path("environments", e.Name)
			cluster := cmp.Or(d.Name, d.Server)
			l.Errorf(sys.Sources.Pos(path), path, "environments %s and %s both deploy to namespace %q of cluster %s, so their Applications would manage the same objects; give one of them another namespace or destination", prev, e.Name, d.Namespace, cluster)
			continue
		}
		seen[d] = e.Name
	}
	return l
}

// checkIgnoredKinds reports ignoreDifferences for a kind no environment
// renders: a typo there would let the application flap unnoticed.
func checkIgnoredKinds(sys *ir.System, envs []render.Environment) diag.List {
	var l diag.List
	have := map[string]bool{}
	for _, e := range envs {
		for _, it := range e.Items {
			gvk := it.GVK()
			key := gvk.Kind
			if gvk.Group != "" {
				key = gvk.Group + "/" + gvk.Kind
			}
			have[key] = true
		}
	}
	for _, key := range slices.Sorted(maps.Keys(sys.GitOps.IgnoreDifferences)) {
		if !have[key] {
			path := ir.Path("gitops", "ignoreDifferences", key)
			l.Errorf(sys.Sources.Pos(path), path, "no environment renders %s; write the key as group/Kind (Kind alone for the core group) of a kind kiln renders: %s", key, strings.Join(slices.Sorted(maps.Keys(have)), ", "))
		}
	}
	return l
}

// destination is where an environment goes: by cluster name when the spec
// names one (Argo CD refuses a destination with both), else by server.
func destination(env *ir.Environment) Destination {
	if env.Destination.Name != "" {
		return Destination{Name: env.Destination.Name, Namespace: env.Namespace}
	}
	return Destination{Server: env.Destination.Server, Namespace: env.Namespace}
}

// NewProject is the system's AppProject: its repositories, the destinations
// of its environments and exactly the kinds kiln rendered for them.
func NewProject(sys *ir.System, envs []render.Environment) *AppProject {
	g := sys.GitOps
	repos := []string{g.RepoURL}
	if h := g.Hydrator; h != nil && h.RepoURL != "" {
		repos = append(repos, h.RepoURL)
	}
	repos = append(repos, g.SourceRepos...)
	slices.Sort(repos)

	var dests []Destination
	for _, e := range sys.Environments {
		dests = append(dests, destination(e))
	}
	slices.SortFunc(dests, func(a, b Destination) int {
		return cmp.Or(strings.Compare(a.Server, b.Server), strings.Compare(a.Name, b.Name), strings.Compare(a.Namespace, b.Namespace))
	})

	cluster, namespaced := map[GroupKind]bool{}, map[GroupKind]bool{}
	for _, e := range envs {
		for _, it := range e.Items {
			gvk := it.GVK()
			gk := GroupKind{Group: gvk.Group, Kind: gvk.Kind}
			if it.Object.GetNamespace() == "" {
				cluster[gk] = true
			} else {
				namespaced[gk] = true
			}
		}
	}
	desc := fmt.Sprintf("%s, deployed by kiln", sys.Name)
	if sys.Description != "" {
		desc = sys.Description
	}
	return &AppProject{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: "AppProject"},
		ObjectMeta: metav1.ObjectMeta{Name: g.ProjectName(sys), Namespace: g.Namespace},
		Spec: AppProjectSpec{
			Description:                desc,
			SourceRepos:                slices.Compact(repos),
			Destinations:               slices.Compact(dests),
			ClusterResourceWhitelist:   sortedKinds(cluster),
			NamespaceResourceWhitelist: sortedKinds(namespaced),
		},
	}
}

func sortedKinds(m map[GroupKind]bool) []GroupKind {
	l := slices.Collect(maps.Keys(m))
	slices.SortFunc(l, func(a, b GroupKind) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind))
	})
	if l == nil {
		// An empty whitelist allows nothing; say so rather than omit it.
		l = []GroupKind{}
	}
	return l
}

// ApplicationName is <system>-<environment>, unique in Argo CD's namespace
// across systems and environments.
func ApplicationName(sys *ir.System, env string) string { return sys.Name + "-" + env }

// NewApplication is one environment's Application.
func NewApplication(sys *ir.System, kinds *render.Kinds, env *ir.Environment, re render.Environment) *Application {
	g := sys.GitOps
	app := &Application{
		TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: "Application"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      ApplicationName(sys, env.Name),
			Namespace: g.Namespace,
			Annotations: map[string]string{
				// Diff by a server-side dry run that includes
				// mutating webhooks, so defaults KServe, Katib and
				// Kueue add at admission are not drift.
				"argocd.argoproj.io/compare-options": "ServerSideDiff=true,IncludeMutationWebhook=true",
			},
			Labels: map[string]string{"kiln.dev/environment": env.Name},
		},
		Spec: ApplicationSpec{
			Project:           g.ProjectName(sys),
			Destination:       destination(env),
			SyncPolicy:        syncPolicy(env.Sync),
			IgnoreDifferences: ignoreDifferences(g, kinds, re.Items),
		},
	}
	if h := g.Hydrator; h != nil {
		app.Spec.SourceHydrator = &SourceHydrator{
			DrySource: DrySource{
				RepoURL:        cmp.Or(h.RepoURL, g.RepoURL),
				TargetRevision: h.TargetRevision,
				Path:           h.Path,
				Plugin: &PluginSource{Name: h.Plugin, Env: []PluginEnv{
					{Name: PluginEnvironmentVar, Value: env.Name},
				}},
			},
			// The hydrated manifests go to the gitops repository, a
			// branch per environment, under the system's name (never
			// the root, which Argo CD refuses).
			SyncSource: SyncSource{TargetBranch: h.BranchPrefix + env.Name, Path: sys.Name},
		}
		if h.RepoURL != "" && h.RepoURL != g.RepoURL {
			app.Spec.SourceHydrator.SyncSource.RepoURL = g.RepoURL
		}
	} else {
		app.Spec.Source = &Source{
			RepoURL:        g.RepoURL,
			TargetRevision: g.TargetRevision,
			Path:           path.Join(g.Path, re.Dir),
		}
	}
	return app
}

// PluginEnvironmentVar is the variable the kiln plugin reads the
// environment to render from (Argo CD adds the ARGOCD_ENV_ prefix).
const PluginEnvironmentVar = "KILN_ENVIRONMENT"

// syncPolicy turns an environment's policy into Argo CD's.
func syncPolicy(p ir.SyncPolicy) *SyncPolicy {
	sp := &SyncPolicy{SyncOptions: []string{
		// kiln renders the Namespace itself, with its Pod Security
		// labels; Argo CD must not create a bare one first.
		"CreateNamespace=false",
		// Only objects that differ are applied: large environments
		// sync faster and unchanged training jobs are not touched.
		"ApplyOutOfSyncOnly=true",
		// Deletions wait until everything else is in place.
		"PruneLast=true",
		// Fields in ignoreDifferences (set by controllers) are kept
		// during a sync, not only hidden in the diff.
		"RespectIgnoreDifferences=true",
		// Two Applications claiming one object is a mistake to stop at.
		"FailOnSharedResource=true",
	}}
	if p.ServerSideApply {
		sp.SyncOptions = append(sp.SyncOptions, "ServerSideApply=true")
	}
	slices.Sort(sp.SyncOptions)
	if p.Automated {
		sp.Automated = &Automated{Prune: p.Prune, SelfHeal: p.SelfHeal}
	}
	if p.Retry > 0 {
		sp.Retry = &Retry{Limit: int64(p.Retry), Backoff: &Backoff{Duration: "5s", Factor: 2, MaxDuration: "3m"}}
	}
	return sp
}

// ignoreDifferences lists, for the kinds of an environment, the fields
// controllers own (their descriptors' ControllerFields; what webhooks
// default at admission is covered by the server-side diff) and the ones
// the spec adds, and the replica count of every object a
// HorizontalPodAutoscaler scales.
func ignoreDifferences(g *ir.GitOps, kinds *render.Kinds, items []render.Item) []IgnoreDifferences {
	fields := map[schema.GroupKind][]string{}
	var scaled []IgnoreDifferences
	for _, it := range items {
		gvk := it.GVK()
		gk := gvk.GroupKind()
		key := gk.Kind
		if gk.Group != "" {
			key = gk.Group + "/" + gk.Kind
		}
		if k, ok := kinds.Lookup(gk); ok {
			fields[gk] = append(fields[gk], k.ControllerFields...)
		}
		fields[gk] = append(fields[gk], g.IgnoreDifferences[key]...)
		if gk.Kind == "HorizontalPodAutoscaler" {
			if ref, ok := scaleTarget(it.Object); ok {
				ref.JSONPointers = []string{"/spec/replicas"}
				scaled = append(scaled, ref)
			}
		}
	}
	var out []IgnoreDifferences
	for _, gk := range slices.SortedFunc(maps.Keys(fields), func(a, b schema.GroupKind) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind))
	}) {
		ptrs := fields[gk]
		if len(ptrs) == 0 {
			continue
		}
		slices.Sort(ptrs)
		out = append(out, IgnoreDifferences{Group: gk.Group, Kind: gk.Kind, JSONPointers: slices.Compact(ptrs)})
	}
	// The autoscaler owns the replica count of what it scales.
	slices.SortFunc(scaled, func(a, b IgnoreDifferences) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Name, b.Name))
	})
	return append(out, slices.CompactFunc(scaled, func(a, b IgnoreDifferences) bool {
		return a.Group == b.Group && a.Kind == b.Kind && a.Name == b.Name
	})...)
}

// scaleTarget reads the object an autoscaler scales, whatever Go type the
// renderer used for it.
func scaleTarget(o render.Object) (IgnoreDifferences, bool) {
	b, err := json.Marshal(o)
	if err != nil {
		return IgnoreDifferences{}, false
	}
	var hpa struct {
		Spec struct {
			ScaleTargetRef struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Name       string `json:"name"`
			} `json:"scaleTargetRef"`
		} `json:"spec"`
	}
	if json.Unmarshal(b, &hpa) != nil || hpa.Spec.ScaleTargetRef.Kind == "" {
		return IgnoreDifferences{}, false
	}
	ref := hpa.Spec.ScaleTargetRef
	group, _, _ := strings.Cut(ref.APIVersion, "/")
	if !strings.Contains(ref.APIVersion, "/") {
		group = ""
	}
	return IgnoreDifferences{Group: group, Kind: ref.Kind, Name: ref.Name}, true
}

// Kinds implements render.KindDeclarer. The AppProject goes in the
// platform wave, before the Applications that name it, when an app of
// apps syncs them.
func (Renderer) Kinds() []render.Kind {
	return []render.Kind{
		{Group: Group, Version: Version, Kind: "AppProject", Plural: "appprojects", Order: render.OrderPolicy + 3, Wave: -1},
		{Group: Group, Version: Version, Kind: "Application", Plural: "applications", Order: render.OrderWorkload},
	}
}
