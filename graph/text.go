package graph

import (
	"fmt"
	"io"
	"strings"
)

// Mermaid shapes per kind: datasets are cylinders, models parallelograms,
// serving endpoints hexagons, as in the SVG.
var mermaidShape = [...][2]string{
	Dataset:  {"[(", ")]"},
	Step:     {"(", ")"},
	Training: {"[", "]"},
	Sweep:    {">", "]"},
	Model:    {"[/", "/]"},
	Serving:  {"{{", "}}"},
	Notebook: {"[[", "]]"},
}

// MermaidText escapes s for a quoted Mermaid label: quotes and angle
// brackets become entity codes, which Mermaid decodes.
func MermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
}

// WriteMermaid writes g as a Mermaid flowchart, left to right.
func (g *Graph) WriteMermaid(w io.Writer) error {
	var b strings.Builder
	// The front matter's title names the system above the picture.
	fmt.Fprintf(&b, "---\ntitle: %s\n---\nflowchart LR\n", MermaidText(g.Title))
	g.mermaidClusters(&b, "", "  ")
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Style == Dashed {
			arrow = "-.->"
		}
		if e.Label != "" {
			fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", e.From, arrow, MermaidText(e.Label), e.To)
		} else {
			fmt.Fprintf(&b, "  %s %s %s\n", e.From, arrow, e.To)
		}
	}
	for k := Dataset; k <= Notebook; k++ {
		var ids []string
		for _, n := range g.Nodes {
			if n.Kind == k {
				ids = append(ids, n.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		p := palette[k]
		fmt.Fprintf(&b, "  classDef %s fill:%s,stroke:%s,color:#1f2328\n", k, p.fill, p.stroke)
		fmt.Fprintf(&b, "  class %s %s\n", strings.Join(ids, ","), k)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (g *Graph) mermaidClusters(b *strings.Builder, parent, indent string) {
	for _, c := range g.Clusters {
		if c.Parent != parent {
			continue
		}
		fmt.Fprintf(b, "%ssubgraph %s[\"%s\"]\n", indent, c.ID, MermaidText(c.Label))
		for _, n := range g.Nodes {
			if n.Cluster == c.ID {
				s := mermaidShape[n.Kind]
				fmt.Fprintf(b, "%s  %s%s\"%s<br/><small>%s</small>\"%s\n", indent, n.ID, s[0], MermaidText(n.Label), MermaidText(n.Detail), s[1])
			}
		}
		g.mermaidClusters(b, c.ID, indent+"  ")
		fmt.Fprintf(b, "%send\n", indent)
	}
}

var dotShape = [...]string{
	Dataset:  "cylinder",
	Step:     "box",
	Training: "box",
	Sweep:    "cds",
	Model:    "parallelogram",
	Serving:  "hexagon",
	Notebook: "component",
}

// dotText quotes s as a DOT string.
func dotText(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// WriteDOT writes g for Graphviz: `dot -Tpng`.
func (g *Graph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotText(g.Title))
	b.WriteString("  rankdir=LR;\n  compound=true;\n  fontname=\"Helvetica\";\n")
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=11, style=filled];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	g.dotClusters(&b, "", "  ")
	for _, e := range g.Edges {
		var attrs []string
		if e.Label != "" {
			attrs = append(attrs, "label="+dotText(e.Label))
		}
		if e.Style == Dashed {
			attrs = append(attrs, "style=dashed")
		}
		if len(attrs) > 0 {
			fmt.Fprintf(&b, "  %s -> %s [%s];\n", e.From, e.To, strings.Join(attrs, ", "))
		} else {
			fmt.Fprintf(&b, "  %s -> %s;\n", e.From, e.To)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (g *Graph) dotClusters(b *strings.Builder, parent, indent string) {
	for _, c := range g.Clusters {
		if c.Parent != parent {
			continue
		}
		fmt.Fprintf(b, "%ssubgraph cluster_%s {\n%s  label=%s;\n", indent, c.ID, indent, dotText(c.Label))
		for _, n := range g.Nodes {
			if n.Cluster != c.ID {
				continue
			}
			p := palette[n.Kind]
			style := "filled"
			if n.Kind == Step {
				style = "filled,rounded"
			}
			fmt.Fprintf(b, "%s  %s [label=%s, shape=%s, style=%q, fillcolor=%q, color=%q];\n",
				indent, n.ID, dotText(n.Label+"\n"+n.Detail), dotShape[n.Kind], style, p.fill, p.stroke)
		}
		g.dotClusters(b, c.ID, indent+"  ")
		fmt.Fprintf(b, "%s}\n", indent)
	}
}

// palette colours each kind the same in every format.
var palette = [...]struct{ fill, stroke string }{
	Dataset:  {"#dbeafe", "#1d4ed8"},
	Step:     {"#f3f4f6", "#4b5563"},
	Training: {"#fde68a", "#b45309"},
	Sweep:    {"#fce7f3", "#be185d"},
	Model:    {"#ede9fe", "#6d28d9"},
	Serving:  {"#d1fae5", "#047857"},
	Notebook: {"#e0f2fe", "#0369a1"},
}

// Formats are the names Write accepts, as `kiln graph -o` takes them.
var Formats = []string{"mermaid", "dot", "svg"}

// Write writes g in format, one of Formats.
func (g *Graph) Write(w io.Writer, format string) error {
	switch format {
	case "mermaid":
		return g.WriteMermaid(w)
	case "dot":
		return g.WriteDOT(w)
	case "svg":
		return g.WriteSVG(w)
	}
	return fmt.Errorf("unknown graph format %q (want %s)", format, strings.Join(Formats, ", "))
}
