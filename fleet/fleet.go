package fleet

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// argoCD is the cluster key of the system-level directories (argocd/):
// their objects go to the Argo CD every system of the repository shares.
const argoCD = "Argo CD's cluster"

// claim is one system's claim to a name on a cluster, with where its spec
// makes it.
type claim struct {
	system  string
	env     string
	cluster string // "" when the spec does not say (see clusterOf)
	path    string
	pos     diag.Pos
}

// sameCluster reports whether a and b are on one cluster: the clusters
// they name, or, when one does not name its cluster, their environments'
// names.
func (a claim) sameCluster(b claim) bool {
	if a.cluster != "" && b.cluster != "" {
		return a.cluster == b.cluster
	}
	return a.env == b.env
}

func (c claim) on() string {
	if c.cluster == "" {
		return "the cluster of environment " + c.env
	}
	return c.cluster
}

// claims are the claims to each name.
type claims map[string][]claim

// add records c's claim to name and returns an earlier claim of another
// system to name on the same cluster, if any.
func (m claims) add(name string, c claim) (claim, bool) {
	for _, first := range m[name] {
		if first.system != c.system && first.sameCluster(c) {
			return first, true
		}
	}
	m[name] = append(m[name], c)
	return claim{}, false
}

func (c claim) where() string {
	if c.env == "" {
		return "system " + c.system
	}
	return fmt.Sprintf("system %s (environment %s)", c.system, c.env)
}

// System is what Check needs of a rendered system: its name, the
// namespaces and hosts each environment claims and the objects it renders,
// with the spec positions of each. Summarize makes it; it is plain data,
// so the render cache can keep it in place of the rendered system.
type System struct {
	Name    string
	NamePos diag.Pos
	// Envs are the system's environments, in the order of ir.System.
	Envs []Env
	// Rendered are the objects of each rendered environment, in the order
	// of render.Result.
	Rendered []Objects
	// Dirs are the objects of the system-level directories (argocd/).
	Dirs []Object
}

// Env is what one environment claims by name: its namespace and the hosts
// it exposes, on its cluster.
type Env struct {
	Name, Namespace string
	// Cluster is the cluster the environment deploys to, "" when its spec
	// does not say (clusterOf).
	Cluster       string
	NamespacePath string
	NamespacePos  diag.Pos
	Hosts         []Host
}

// Host is a host an entry exposes.
type Host struct {
	Host, Path string
	Pos        diag.Pos
}

// Objects are the objects rendered for one environment.
type Objects struct {
	Env, Cluster string
	Objects      []Object
}

// Object is one rendered object other than a Namespace (namespaces are
// claimed as such): its key (group, kind, namespace and name), what a
// message calls it, and where its spec makes it.
type Object struct {
	Key, Kind, Name string
	Path            string
	Pos             diag.Pos
}

// Summarize returns what Check needs of res.
func Summarize(res *render.Result) System {
	sys := res.System
	out := System{Name: sys.Name, NamePos: sys.Sources.Pos("name")}
	for _, env := range sys.Environments {
		path := ir.Path("environments", env.Name, "namespace")
		if _, own := sys.Sources[path]; !own {
			path = "namespace"
		}
		e := Env{Name: env.Name, Namespace: cmp.Or(env.Namespace, sys.Namespace), Cluster: clusterOf(sys, env), NamespacePath: path, NamespacePos: sys.Sources.Pos(path)}
		for _, name := range slices.Sorted(maps.Keys(env.Spec.Serving)) {
			x := env.Spec.Serving[name].Expose
			if x == nil || x.Host == "" {
				continue
			}
			path := ir.Path("serving", name, "expose", "host")
			e.Hosts = append(e.Hosts, Host{Host: x.Host, Path: path, Pos: env.Sources.Pos(path)})
		}
		out.Envs = append(out.Envs, e)
	}
	for _, e := range res.Environments {
		i := slices.IndexFunc(sys.Environments, func(ie *ir.Environment) bool { return ie.Name == e.Name })
		if i < 0 {
			continue
		}
		out.Rendered = append(out.Rendered, Objects{Env: e.Name, Cluster: clusterOf(sys, sys.Environments[i]), Objects: objects(e.Items)})
	}
	for _, d := range res.Dirs {
		out.Dirs = append(out.Dirs, objects(d.Items)...)
	}
	return out
}

// objects summarizes items, leaving out Namespaces.
func objects(items []render.Item) []Object {
	var out []Object
	for _, it := range items {
		gvk := it.GVK()
		if gvk.Group == "" && gvk.Kind == "Namespace" {
			continue
		}
		name := it.Object.GetName()
		if ns := it.Object.GetNamespace(); ns != "" {
			name = ns + "/" + name
		}
		out = append(out, Object{Key: it.Key(), Kind: gvk.Kind, Name: name, Path: it.Origin.Path, Pos: it.Origin.Pos})
	}
	return out
}

// Check reports the conflicts between rendered systems: CheckSystems of
// their summaries.
func Check(systems []*render.Result) diag.List {
	if len(systems) < 2 {
		return nil
	}
	sums := make([]System, len(systems))
	for i, res := range systems {
		sums[i] = Summarize(res)
	}
	return CheckSystems(sums)
}

// CheckSystems reports the conflicts between systems, in the order given
// (each conflict is reported once, at the later claimant). One system has
// none.
func CheckSystems(systems []System) diag.List {
	if len(systems) < 2 {
		return nil
	}
	var diags diag.List
	names := map[string]claim{}
	namespaces, hosts, objects := claims{}, claims{}, claims{}
	for _, sys := range systems {
		here := claim{system: sys.Name, path: "name", pos: sys.NamePos}
		if first, dup := names[sys.Name]; dup {
			diags.Add(related(diag.Errorf(here.pos, here.path, "another spec names its system %s too: their output directories (<environment>/%s) would be one; give one of them another name", sys.Name, sys.Name), first))
			continue
		}
		names[sys.Name] = here

		shared := map[string]bool{} // environments whose namespace is reported
		for _, env := range sys.Envs {
			c := claim{system: sys.Name, env: env.Name, cluster: env.Cluster, path: env.NamespacePath, pos: env.NamespacePos}
			if first, dup := namespaces.add(env.Namespace, c); dup {
				diags.Add(related(withEnv(diag.Errorf(c.pos, c.path, "namespace %q on %s is claimed by %s too: each system renders the Namespace, its quota and its accounts, and would overwrite the other's; give one of them a namespace of its own", env.Namespace, c.on(), first.where()), env.Name), first))
				shared[env.Name] = true
			}
			for _, h := range env.Hosts {
				c := claim{system: sys.Name, env: env.Name, cluster: env.Cluster, path: h.Path, pos: h.Pos}
				if first, dup := hosts.add(h.Host, c); dup {
					diags.Add(related(withEnv(diag.Errorf(c.pos, c.path, "host %q on %s is exposed by %s too, at %s: each system renders its own gateway or route for the host, and the ingress cannot serve both; give one of them another host", h.Host, c.on(), first.where(), first.path), env.Name), first))
				}
			}
		}

		for _, e := range sys.Rendered {
			if shared[e.Env] {
				continue // its objects follow from the namespace, reported
			}
			in := claim{system: sys.Name, env: e.Env, cluster: e.Cluster}
			for _, o := range e.Objects {
				diags.Add(checkObject(objects, in, o)...)
			}
		}
		in := claim{system: sys.Name, cluster: argoCD}
		for _, o := range sys.Dirs {
			diags.Add(checkObject(objects, in, o)...)
		}
	}
	return diags.MergeEnvs(nil).Sort()
}

// withEnv marks d as occurring in env.
func withEnv(d diag.Diagnostic, env string) diag.Diagnostic {
	d.Envs = []string{env}
	return d
}

// checkObject records an object a system renders (in says which system,
// environment and cluster) and reports it when another system renders one
// of the same kind, namespace and name on that cluster.
func checkObject(seen claims, in claim, o Object) diag.List {
	c := in
	c.path, c.pos = o.Path, o.Pos
	first, dup := seen.add(o.Key, c)
	if !dup {
		return nil
	}
	d := diag.Errorf(c.pos, c.path, "%s %s on %s is rendered by %s too: one would overwrite the other; rename one of the systems or what it names this object after", o.Kind, o.Name, c.on(), first.where())
	if c.env != "" {
		d = withEnv(d, c.env)
	}
	return diag.List{related(d, first)}
}

// related adds the first claimant's position to d.
func related(d diag.Diagnostic, first claim) diag.Diagnostic {
	if first.pos.IsValid() {
		d.Related = append(d.Related, first.pos)
	}
	return d
}

// clusterOf is the cluster env deploys to, "" when its spec does not say
// (see the package documentation).
func clusterOf(sys *ir.System, env *ir.Environment) string {
	prefix := ir.Path("environments", env.Name, "destination")
	for p := range sys.Sources {
		if p == prefix || strings.HasPrefix(p, prefix+".") {
			return "cluster " + cmp.Or(env.Destination.Name, env.Destination.Server)
		}
	}
	if sys.GitOps != nil {
		// Argo CD's own cluster, the schema's default server.
		return "cluster " + cmp.Or(env.Destination.Name, env.Destination.Server)
	}
	return ""
}
