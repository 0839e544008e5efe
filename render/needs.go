package render

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// Needs is what the renderers of one environment declared their objects
// need from the environment: the workflow identity and its permissions,
// namespace labels, the Pod Security level, extended resources for the
// quota. Renderers state needs through the Context (NeedWorkflows,
// NeedJobAccess, …) while they render; the platform renderer, which runs
// after them, reads them (Context.Needs) and renders the namespace, quota
// and RBAC. So the platform renderer never reads another renderer's
// section of the spec, and a new renderer gets its RBAC without edits
// there.
type Needs struct {
	workflows bool
	// jobs[group][plural] is the set of verbs workflows need on a kind.
	jobs      map[string]map[string]map[string]bool
	rules     []rbacv1.PolicyRule
	labels    map[string]string
	baseline  []BaselineReason
	resources map[string]bool
	gpus      []GPUDemand
	// read is set once the platform renderer has read the needs: a need
	// declared later would be silently lost.
	read, late bool
}

// declare guards every need: declaring one after the needs were read is
// an error in the renderer order, reported once.
func (c *Context) declare() {
	if c.needs.read && !c.needs.late {
		c.needs.late = true
		c.diags.Errorf(diag.Pos{}, "", "internal error: a renderer declared a need after the platform renderer read them; it must come before the platform renderer in the renderer list")
	}
}

// BaselineReason is why a namespace enforces Pod Security baseline, not
// restricted: the spec entry at Path.
type BaselineReason struct {
	Path string
	Why  string
	// Controller says the entry itself asks for restricted: a controller
	// it uses creates pods that cannot meet it. (An entry that asks for
	// baseline needs no explanation.)
	Controller bool
}

// NeedWorkflows says the environment runs Argo workflows: their pods need
// the workflow service account and the permissions Argo's executor needs
// to report step results.
func (c *Context) NeedWorkflows() {
	c.declare()
	c.needs.workflows = true
}

// NeedJobAccess says workflow pods create objects of kind k (a training
// step applies its job and the exit handler deletes it) and need verbs on
// it; it implies NeedWorkflows.
func (c *Context) NeedJobAccess(k Kind, verbs ...string) {
	c.NeedWorkflows() // declares
	n := &c.needs
	if n.jobs == nil {
		n.jobs = map[string]map[string]map[string]bool{}
	}
	if n.jobs[k.Group] == nil {
		n.jobs[k.Group] = map[string]map[string]bool{}
	}
	if n.jobs[k.Group][k.Plural] == nil {
		n.jobs[k.Group][k.Plural] = map[string]bool{}
	}
	for _, v := range verbs {
		n.jobs[k.Group][k.Plural][v] = true
	}
}

// NeedWorkflowRule says workflow pods need a permission beyond the kinds
// they create (reading pod logs, starting child workflows); it implies
// NeedWorkflows. Declaring the same rule twice is one need.
func (c *Context) NeedWorkflowRule(r rbacv1.PolicyRule) {
	c.NeedWorkflows() // declares
	if !slices.ContainsFunc(c.needs.rules, func(o rbacv1.PolicyRule) bool { return equalRule(o, r) }) {
		c.needs.rules = append(c.needs.rules, r)
	}
}

// NeedNamespaceLabel says the namespace needs a label (Katib injects its
// metrics collector only in namespaces labelled for it).
func (c *Context) NeedNamespaceLabel(key, value string) {
	c.declare()
	if c.needs.labels == nil {
		c.needs.labels = map[string]string{}
	}
	c.needs.labels[key] = value
}

// NeedBaseline says pods of the entry at r.Path cannot meet Pod Security
// restricted, so the namespace must enforce baseline.
func (c *Context) NeedBaseline(r BaselineReason) {
	c.declare()
	c.needs.baseline = append(c.needs.baseline, r)
}

// NeedPodSecurity declares what the security settings of the entry at
// path ask of the namespace: baseline when its profile is baseline.
func (c *Context) NeedPodSecurity(path string, sec ir.Security) {
	if !sec.Restricted() {
		c.NeedBaseline(BaselineReason{Path: ir.Join(path, "security", "profile"), Why: path + " asks for it"})
	}
}

// NeedResources declares the extended resources pods with resources r
// request beyond plain GPUs, which the quota caps at the environment's GPU
// budget: a MIG profile.
func (c *Context) NeedResources(r ir.Resources) {
	if r.MIG != "" && r.GPUs > 0 {
		c.NeedResource(r.GPUResource())
	}
}

// NeedResource says pods request an extended resource the quota must cap
// (a MIG profile, counted against the GPU budget).
func (c *Context) NeedResource(name string) {
	c.declare()
	if c.needs.resources == nil {
		c.needs.resources = map[string]bool{}
	}
	c.needs.resources[name] = true
}

// Needs returns what the renderers that ran so far declared, for the
// platform renderer; a need declared after this is an error.
func (c *Context) Needs() *Needs {
	c.needs.read = true
	return &c.needs
}

// Workflows reports whether the environment runs workflows.
func (n *Needs) Workflows() bool { return n.workflows }

// JobAccess is a kind workflows create and the verbs they need on it.
type JobAccess struct {
	Group, Plural string
	Verbs         []string
}

// JobAccess returns the kinds workflows create, sorted by group and plural,
// each with its verbs sorted.
func (n *Needs) JobAccess() []JobAccess {
	var out []JobAccess
	for _, g := range slices.Sorted(maps.Keys(n.jobs)) {
		for _, p := range slices.Sorted(maps.Keys(n.jobs[g])) {
			out = append(out, JobAccess{Group: g, Plural: p, Verbs: slices.Sorted(maps.Keys(n.jobs[g][p]))})
		}
	}
	return out
}

// WorkflowRules returns the further rules workflows need, sorted by
// group and resource.
func (n *Needs) WorkflowRules() []rbacv1.PolicyRule {
	out := slices.Clone(n.rules)
	slices.SortStableFunc(out, func(a, b rbacv1.PolicyRule) int {
		return cmp.Or(strings.Compare(strings.Join(a.APIGroups, ","), strings.Join(b.APIGroups, ",")),
			strings.Compare(strings.Join(a.Resources, ","), strings.Join(b.Resources, ",")))
	})
	return out
}

// NamespaceLabels returns the labels the namespace needs.
func (n *Needs) NamespaceLabels() map[string]string { return maps.Clone(n.labels) }

// BaselineReasons returns why the namespace must enforce baseline, sorted
// by path; none when restricted will do.
func (n *Needs) BaselineReasons() []BaselineReason {
	out := slices.Clone(n.baseline)
	slices.SortStableFunc(out, func(a, b BaselineReason) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Resources returns the extended resources the quota must cap, sorted.
func (n *Needs) Resources() []string { return slices.Sorted(maps.Keys(n.resources)) }

func equalRule(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.ResourceNames, b.ResourceNames) &&
		slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}

// GPUDemand is what one spec entry may hold of a GPU resource (plain GPUs
// or one MIG profile's slices) at once in the environment, for the
// platform renderer's summed budget. Held is what the entry holds as long
// as it is deployed (a notebook, serving's minimum replicas); Peak is the
// most it holds at once, Held included (a job's every pod, serving's
// maximum replicas of every version). A run-to-completion entry has Held
// 0: runs can take turns, long-running entries cannot.
type GPUDemand struct {
	Path     string
	Resource string
	Held     int
	Peak     int
	// What spells where Peak comes from ("2 workers × 4").
	What string
}

// NeedGPUs declares an entry's GPU demand; an entry with no GPUs
// declares none.
func (c *Context) NeedGPUs(d GPUDemand) {
	if d.Peak <= 0 {
		return
	}
	c.declare()
	c.needs.gpus = append(c.needs.gpus, d)
}

// GPUDemands returns the entries' GPU demands, sorted by resource and
// path.
func (n *Needs) GPUDemands() []GPUDemand {
	out := slices.Clone(n.gpus)
	slices.SortStableFunc(out, func(a, b GPUDemand) int {
		return cmp.Or(strings.Compare(a.Resource, b.Resource), strings.Compare(a.Path, b.Path))
	})
	return out
}
