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

// Check reports the conflicts between systems, in the order given (each
// conflict is reported once, at the later claimant). One system has none.
func Check(systems []*render.Result) diag.List {
	if len(systems) < 2 {
		return nil
	}
	var diags diag.List
	names := map[string]claim{}
	namespaces, hosts, objects := claims{}, claims{}, claims{}
	for _, res := range systems {
		sys := res.System
		here := claim{system: sys.Name, path: "name", pos: sys.Sources.Pos("name")}
		if first, dup := names[sys.Name]; dup {
			diags.Add(related(diag.Errorf(here.pos, here.path, "another spec names its system %s too: their output directories (<environment>/%s) would be one; give one of them another name", sys.Name, sys.Name), first))
			continue
		}
		names[sys.Name] = here

		shared := map[string]bool{} // environments whose namespace is reported
		for _, env := range sys.Environments {
			ns := cmp.Or(env.Namespace, sys.Namespace)
			path := ir.Path("environments", env.Name, "namespace")
			if _, own := sys.Sources[path]; !own {
				path = "namespace"
			}
			c := claim{system: sys.Name, env: env.Name, cluster: clusterOf(sys, env), path: path, pos: sys.Sources.Pos(path)}
			if first, dup := namespaces.add(ns, c); dup {
				diags.Add(related(withEnv(diag.Errorf(c.pos, c.path, "namespace %q on %s is claimed by %s too: each system renders the Namespace, its quota and its accounts, and would overwrite the other's; give one of them a namespace of its own", ns, c.on(), first.where()), env.Name), first))
				shared[env.Name] = true
			}

			for _, name := range slices.Sorted(maps.Keys(env.Spec.Serving)) {
				x := env.Spec.Serving[name].Expose
				if x == nil || x.Host == "" {
					continue
				}
				path := ir.Path("serving", name, "expose", "host")
				c := claim{system: sys.Name, env: env.Name, cluster: clusterOf(sys, env), path: path, pos: env.Sources.Pos(path)}
				if first, dup := hosts.add(x.Host, c); dup {
					diags.Add(related(withEnv(diag.Errorf(c.pos, c.path, "host %q on %s is exposed by %s too, at %s: each system renders its own gateway or route for the host, and the ingress cannot serve both; give one of them another host", x.Host, c.on(), first.where(), first.path), env.Name), first))
				}
			}
		}

		for _, e := range res.Environments {
			i := slices.IndexFunc(sys.Environments, func(ie *ir.Environment) bool { return ie.Name == e.Name })
			if i < 0 {
				continue
			}
			env := sys.Environments[i]
			if shared[e.Name] {
				continue // its objects follow from the namespace, reported
			}
			in := claim{system: sys.Name, env: e.Name, cluster: clusterOf(sys, env)}
			for _, it := range e.Items {
				diags.Add(checkObject(objects, in, it)...)
			}
		}
		for _, d := range res.Dirs {
			in := claim{system: sys.Name, cluster: argoCD}
			for _, it := range d.Items {
				diags.Add(checkObject(objects, in, it)...)
			}
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
// of the same kind, namespace and name on that cluster. Namespaces are
// reported as such, above.
func checkObject(seen claims, in claim, it render.Item) diag.List {
	gvk := it.GVK()
	if gvk.Group == "" && gvk.Kind == "Namespace" {
		return nil
	}
	c := in
	c.path, c.pos = it.Origin.Path, it.Origin.Pos
	first, dup := seen.add(it.Key(), c)
	if !dup {
		return nil
	}
	name := it.Object.GetName()
	if ns := it.Object.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	d := diag.Errorf(c.pos, c.path, "%s %s on %s is rendered by %s too: one would overwrite the other; rename one of the systems or what it names this object after", gvk.Kind, name, c.on(), first.where())
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
