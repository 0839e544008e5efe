package graph

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/ir"
)

// Kind is what a node stands for. The order of the constants is the order
// nodes of one rank are drawn in, top to bottom.
type Kind int

// The node kinds.
const (
	Dataset Kind = iota
	Step
	Training
	Sweep
	Model
	Serving
	Notebook
)

var kindNames = [...]string{"dataset", "step", "training", "sweep", "model", "serving", "notebook"}

func (k Kind) String() string { return kindNames[k] }

// Node is one box of the picture.
type Node struct {
	// ID is unique within the graph and safe as a Mermaid or DOT
	// identifier: letters, digits and underscores.
	ID   string
	Kind Kind
	// Label is the first line: the entry's name (a model's URI).
	Label string
	// Detail is the second line: what the entry is and does, briefly.
	Detail string
	// Cluster is the ID of the innermost cluster holding the node.
	Cluster string
}

// Style is how an edge is drawn.
type Style int

// The edge styles.
const (
	// Solid is data or control flowing from one node to the next.
	Solid Style = iota
	// Dashed is an action on another entry: a promote step rolling out
	// a model, a sweep running trials of a job.
	Dashed
)

// Edge connects two nodes.
type Edge struct {
	From, To string
	Label    string
	Style    Style
}

// Cluster is a box around nodes: an environment, or a pipeline within
// one.
type Cluster struct {
	ID    string
	Label string
	// Parent is the enclosing cluster's ID; "" for an environment.
	Parent string
}

// Graph is a system's picture, independent of any output format. The
// order of each list is the order writers print it in.
type Graph struct {
	Title    string
	Clusters []Cluster
	Nodes    []Node
	Edges    []Edge
}

// Build draws every environment of sys, in the order the system lists
// them (sorted by name).
func Build(sys *ir.System) *Graph {
	g := &Graph{Title: sys.Name}
	ids := map[string]bool{}
	for _, env := range sys.Environments {
		b := &builder{g: g, ids: ids, env: env, nodes: map[string]string{}}
		b.environment()
	}
	return g
}

// builder draws one environment.
type builder struct {
	g   *Graph
	ids map[string]bool
	env *ir.Environment
	// nodes maps "kind/name" to the node's ID within this environment.
	nodes map[string]string
}

// id returns a fresh identifier for parts, unique in the whole graph.
func (b *builder) id(parts ...string) string {
	var s strings.Builder
	for i, p := range parts {
		if i > 0 {
			s.WriteString("__")
		}
		for _, r := range p {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				s.WriteRune(r)
			} else {
				s.WriteByte('_')
			}
		}
	}
	id := s.String()
	for n := 2; b.ids[id]; n++ {
		id = fmt.Sprintf("%s_%d", s.String(), n)
	}
	b.ids[id] = true
	return id
}

func (b *builder) node(kind Kind, key, cluster, label, detail string) string {
	id := b.id(b.env.Name, kind.String(), key)
	b.nodes[kind.String()+"/"+key] = id
	b.g.Nodes = append(b.g.Nodes, Node{ID: id, Kind: kind, Label: label, Detail: detail, Cluster: cluster})
	return id
}

func (b *builder) edge(from, to, label string, style Style) {
	if from == "" || to == "" {
		return
	}
	b.g.Edges = append(b.g.Edges, Edge{From: from, To: to, Label: label, Style: style})
}

func (b *builder) lookup(kind Kind, key string) string { return b.nodes[kind.String()+"/"+key] }

func (b *builder) environment() {
	env, s := b.env, b.env.Spec
	envID := b.id("env", env.Name)
	label := env.Name
	if env.Production {
		label += " (production)"
	}
	b.g.Clusters = append(b.g.Clusters, Cluster{ID: envID, Label: label})

	for _, name := range slices.Sorted(maps.Keys(s.Datasets)) {
		b.node(Dataset, name, envID, name, "dataset · "+s.Datasets[name].URI)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Training)) {
		b.node(Training, name, envID, name, trainingDetail(s.Training[name]))
	}
	for _, name := range slices.Sorted(maps.Keys(s.Serving)) {
		b.node(Serving, name, envID, name, servingDetail(s.Serving[name]))
	}
	// Models: every storage URI a serving entry serves, once.
	for _, name := range slices.Sorted(maps.Keys(s.Serving)) {
		sv := s.Serving[name]
		stable := "serves"
		if sv.Canary != nil {
			stable = fmt.Sprintf("stable %d%%", sv.Canary.Stable())
		}
		b.edge(b.model(sv.Model.StorageURI, sv.Model.Format, envID), b.lookup(Serving, name), stable, Solid)
		if sv.Canary != nil {
			b.edge(b.model(sv.Canary.StorageURI, sv.Model.Format, envID), b.lookup(Serving, name), fmt.Sprintf("canary %d%%", sv.Canary.Percent), Solid)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Training)) {
		for _, ds := range s.Training[name].Datasets {
			b.edge(b.lookup(Dataset, ds), b.lookup(Training, name), "", Solid)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Pipelines)) {
		b.pipeline(envID, name, s.Pipelines[name])
	}
	for _, name := range slices.Sorted(maps.Keys(s.Sweeps)) {
		sw := s.Sweeps[name]
		id := b.node(Sweep, name, envID, name, sweepDetail(sw))
		if sw.Trial != "" {
			b.edge(id, b.lookup(Training, sw.Trial), "tunes", Dashed)
		}
		if p := s.Pipelines[sw.Pipeline]; p != nil {
			for _, step := range slices.Sorted(maps.Keys(p.Steps)) {
				if len(p.Steps[step].After) == 0 && step != p.OnExit {
					b.edge(id, b.lookup(Step, sw.Pipeline+"/"+step), "tunes", Dashed)
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Notebooks)) {
		nb := s.Notebooks[name]
		id := b.node(Notebook, name, envID, name, "notebook"+gpus(nb.Resources))
		for _, ds := range nb.Datasets {
			b.edge(b.lookup(Dataset, ds), id, "", Solid)
		}
	}
}

// model returns the node of a model URI, adding it the first time.
func (b *builder) model(uri, format, cluster string) string {
	if id := b.lookup(Model, uri); id != "" {
		return id
	}
	return b.node(Model, uri, cluster, uri, "model · "+format)
}

func (b *builder) pipeline(envID, name string, p *ir.Pipeline) {
	cid := b.id(b.env.Name, "pipeline", name)
	label := "pipeline " + name
	if p.Schedule != nil {
		label += " · " + p.Schedule.Cron
		if p.Schedule.Timezone != "" {
			label += " " + p.Schedule.Timezone
		}
	}
	b.g.Clusters = append(b.g.Clusters, Cluster{ID: cid, Label: label, Parent: envID})
	steps := slices.Sorted(maps.Keys(p.Steps))
	for _, sn := range steps {
		b.node(Step, name+"/"+sn, cid, sn, stepDetail(p.Steps[sn]))
	}
	// The exit handler runs after every other step: edges from the
	// steps nothing waits for put it last, where it belongs.
	needed := map[string]bool{}
	for _, st := range p.Steps {
		for _, dep := range st.After {
			needed[dep] = true
		}
	}
	for _, sn := range steps {
		if p.OnExit != "" && sn != p.OnExit && !needed[sn] {
			b.edge(b.lookup(Step, name+"/"+sn), b.lookup(Step, name+"/"+p.OnExit), "on exit", Dashed)
		}
	}
	for _, sn := range steps {
		st, id := p.Steps[sn], b.lookup(Step, name+"/"+sn)
		for _, dep := range st.After {
			b.edge(b.lookup(Step, name+"/"+dep), id, "", Solid)
		}
		// A step built from a component reads the component's datasets
		// as well as its own.
		datasets := st.Datasets
		if c := b.env.Spec.Components[st.Component]; c != nil {
			datasets = append(slices.Clone(datasets), c.Datasets...)
		}
		slices.Sort(datasets)
		for _, ds := range slices.Compact(datasets) {
			b.edge(b.lookup(Dataset, ds), id, "", Solid)
		}
		if st.Training != "" {
			b.edge(id, b.lookup(Training, st.Training), "runs", Solid)
		}
		if st.Promote != nil {
			b.edge(id, b.lookup(Serving, st.Promote.Serving), "promotes", Dashed)
		}
	}
}

func gpus(r ir.Resources) string {
	if r.GPUs == 0 {
		return ""
	}
	if r.MIG != "" {
		return fmt.Sprintf(" · %d× MIG %s", r.GPUs, r.MIG)
	}
	return fmt.Sprintf(" · %d GPU", r.GPUs)
}

func trainingDetail(t *ir.Training) string {
	d := t.Framework
	if t.Workers > 1 {
		d += fmt.Sprintf(" · %d workers", t.Workers)
	} else {
		d += " · 1 worker"
	}
	if t.Resources.GPUs > 0 {
		d += fmt.Sprintf(" × %d GPU", t.Resources.GPUs)
	}
	return d
}

func servingDetail(s *ir.Serving) string {
	d := s.Runtime + " · " + s.Model.Format
	if s.Replicas.Min == s.Replicas.Max {
		d += fmt.Sprintf(" · %d replicas", s.Replicas.Min)
	} else {
		d += fmt.Sprintf(" · %d–%d replicas", s.Replicas.Min, s.Replicas.Max)
	}
	return d + gpus(s.Resources)
}

func sweepDetail(s *ir.Sweep) string {
	return fmt.Sprintf("sweep · %s · %d trials", s.Algorithm, s.MaxTrials)
}

func stepDetail(s *ir.Step) string {
	var parts []string
	switch {
	case s.Training != "":
		parts = append(parts, "runs "+s.Training)
	case s.Promote != nil:
		p := "promote"
		if s.Promote.Canary != nil {
			p += fmt.Sprintf(" · canary %d%%", *s.Promote.Canary)
		}
		parts = append(parts, p)
	case s.Component != "":
		parts = append(parts, "component "+s.Component)
	default:
		parts = append(parts, "step")
	}
	if n := len(s.WithItems); n > 0 {
		parts = append(parts, fmt.Sprintf("× %d items", n))
	}
	if s.Resources != nil && s.Resources.GPUs > 0 {
		parts = append(parts, strings.TrimPrefix(gpus(*s.Resources), " · "))
	}
	if s.When != "" {
		parts = append(parts, "if "+s.When)
	}
	return strings.Join(parts, " · ")
}
