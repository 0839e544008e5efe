package graph

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Layout constants, in pixels. Integer arithmetic throughout keeps the SVG
// byte-identical on every platform.
const (
	margin     = 16
	nodeH      = 44
	rowGap     = 14
	colGap     = 84
	envPad     = 16
	envLabelH  = 26
	bandGap    = 18
	boxPad     = 10
	boxLabelH  = 20
	minNodeW   = 110
	maxChars   = 60
	titleH     = 30
	labelCharW = 7 // 12px bold, roughly
	detailChW  = 6 // 10px, roughly
)

// placed is a node with its box.
type placed struct {
	n          *Node
	x, y, w, h int
}

// box is a cluster's rectangle.
type box struct {
	c          *Cluster
	x, y, w, h int
}

// layout places every node: environments stacked top to bottom; within
// one, nodes in columns by rank (the longest path from a source, so every
// edge points right) and in bands: one per pipeline, boxed, one for the
// rest of the flow and one for sweeps and notebooks.
func (g *Graph) layout() (nodes map[string]*placed, boxes []box, width, height int) {
	nodes = map[string]*placed{}
	y := margin + titleH
	width = 2*margin + 200
	for ci := range g.Clusters {
		env := &g.Clusters[ci]
		if env.Parent != "" {
			continue
		}
		var members []*Node
		var pipelines []*Cluster
		band := map[string]int{}
		for pi := range g.Clusters {
			if g.Clusters[pi].Parent == env.ID {
				band[g.Clusters[pi].ID] = len(pipelines)
				pipelines = append(pipelines, &g.Clusters[pi])
			}
		}
		// Sweeps and notebooks sit on the side of the flow, below it,
		// so the flow's long edges (a dataset to its training job) do
		// not run through them.
		bandOf := func(n *Node) int {
			if b, ok := band[n.Cluster]; ok {
				return b
			}
			if n.Kind == Sweep || n.Kind == Notebook {
				return len(pipelines) + 1
			}
			return len(pipelines)
		}
		for i := range g.Nodes {
			n := &g.Nodes[i]
			if _, inPipeline := band[n.Cluster]; inPipeline || n.Cluster == env.ID {
				members = append(members, n)
			}
		}
		rank := g.ranks(members)
		ncols := 0
		for _, r := range rank {
			ncols = max(ncols, r+1)
		}
		// cells[band][col] lists the nodes of a band in a column, in
		// node order.
		cells := make([][][]*Node, len(pipelines)+2)
		for b := range cells {
			cells[b] = make([][]*Node, ncols)
		}
		colW := make([]int, ncols)
		for _, n := range members {
			b, c := bandOf(n), rank[n.ID]
			cells[b][c] = append(cells[b][c], n)
			colW[c] = max(colW[c], nodeWidth(n))
		}
		colX := make([]int, ncols)
		x := margin + envPad
		for c := range ncols {
			colX[c] = x
			x += colW[c] + colGap
		}
		envW := x - colGap + envPad - margin
		envTop := y
		y += envLabelH
		for b := range cells {
			rows, first, last := 0, ncols, -1
			for c, cell := range cells[b] {
				rows = max(rows, len(cell))
				if len(cell) > 0 {
					first, last = min(first, c), max(last, c)
				}
			}
			if rows == 0 {
				continue
			}
			top := y
			if b < len(pipelines) {
				y += boxLabelH + boxPad
			}
			for c, cell := range cells[b] {
				for r, n := range cell {
					nodes[n.ID] = &placed{n: n, x: colX[c] + (colW[c]-nodeWidth(n))/2, y: y + r*(nodeH+rowGap), w: nodeWidth(n), h: nodeH}
				}
			}
			y += rows*(nodeH+rowGap) - rowGap
			if b < len(pipelines) {
				y += boxPad
				bx := colX[first] - boxPad
				boxes = append(boxes, box{c: pipelines[b], x: bx, y: top, w: colX[last] + colW[last] + boxPad - bx, h: y - top})
			}
			y += bandGap
		}
		y += envPad - bandGap
		boxes = append(boxes, box{c: env, x: margin, y: envTop, w: envW, h: y - envTop})
		width = max(width, envW+2*margin)
		y += margin
	}
	// Environments first, so pipelines are drawn over them.
	slices.SortStableFunc(boxes, func(a, b box) int {
		if (a.c.Parent == "") == (b.c.Parent == "") {
			return 0
		}
		if a.c.Parent == "" {
			return -1
		}
		return 1
	})
	return nodes, boxes, width, y
}

// ranks gives each node its column: the longest path to it from a node
// without incoming edges. A source then moves right to just before its
// nearest successor, so a dataset sits next to what reads it.
func (g *Graph) ranks(members []*Node) map[string]int {
	in := map[string]bool{}
	for _, n := range members {
		in[n.ID] = true
	}
	preds, succs := map[string][]string{}, map[string][]string{}
	for _, e := range g.Edges {
		if in[e.From] && in[e.To] {
			preds[e.To] = append(preds[e.To], e.From)
			succs[e.From] = append(succs[e.From], e.To)
		}
	}
	rank := map[string]int{}
	// Relax in node order until nothing changes; the graph is a DAG, so
	// len(members) rounds suffice, and the bound keeps a cycle (which the
	// compiler rejects) from looping forever.
	for range members {
		changed := false
		for _, n := range members {
			for _, p := range preds[n.ID] {
				if rank[p]+1 > rank[n.ID] {
					rank[n.ID] = rank[p] + 1
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	for _, n := range members {
		if len(preds[n.ID]) > 0 || len(succs[n.ID]) == 0 {
			continue
		}
		lo := -1
		for _, s := range succs[n.ID] {
			if lo < 0 || rank[s] < lo {
				lo = rank[s]
			}
		}
		rank[n.ID] = max(0, lo-1)
	}
	return rank
}

func nodeWidth(n *Node) int {
	return max(minNodeW, utf8.RuneCountInString(clip(n.Label))*labelCharW+20, utf8.RuneCountInString(clip(n.Detail))*detailChW+20)
}

// clip shortens text that would make a node too wide.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxChars {
		return s
	}
	r := []rune(s)
	return string(r[:maxChars-1]) + "…"
}

var xmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// WriteSVG draws g as a standalone SVG image.
func (g *Graph) WriteSVG(w io.Writer) error {
	nodes, boxes, width, height := g.layout()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif">`+"\n", width, height, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>` + "\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="16" font-weight="bold" fill="#1f2328">%s</text>`+"\n", margin, margin+16, xmlText.Replace(g.Title))
	for _, bx := range boxes {
		if bx.c.Parent == "" {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="8" fill="#f6f8fa" stroke="#d0d7de"/>`+"\n", bx.x, bx.y, bx.w, bx.h)
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" font-weight="bold" fill="#1f2328">%s</text>`+"\n", bx.x+envPad, bx.y+18, xmlText.Replace(bx.c.Label))
		} else {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="#ffffff" stroke="#8c959f" stroke-dasharray="4 3"/>`+"\n", bx.x, bx.y, bx.w, bx.h)
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#57606a">%s</text>`+"\n", bx.x+boxPad, bx.y+15, xmlText.Replace(bx.c.Label))
		}
	}
	// Edges under the nodes, labels over them.
	var labels strings.Builder
	for _, e := range g.Edges {
		from, to := nodes[e.From], nodes[e.To]
		if from == nil || to == nil {
			continue
		}
		x1, y1 := from.x+from.w, from.y+from.h/2
		x2, y2 := to.x, to.y+to.h/2
		mx := (x1 + x2) / 2
		dash := ""
		if e.Style == Dashed {
			dash = ` stroke-dasharray="5 4"`
		}
		fmt.Fprintf(&b, `<path d="M%d,%d C%d,%d %d,%d %d,%d" fill="none" stroke="#57606a" stroke-width="1.3"%s marker-end="url(#arrow)"/>`+"\n", x1, y1, mx, y1, mx, y2, x2, y2, dash)
		if e.Label != "" {
			fmt.Fprintf(&labels, `<text x="%d" y="%d" font-size="10" text-anchor="middle" fill="#57606a" stroke="#ffffff" stroke-width="3" paint-order="stroke">%s</text>`+"\n", mx, (y1+y2)/2-3, xmlText.Replace(e.Label))
		}
	}
	for i := range g.Nodes {
		p := nodes[g.Nodes[i].ID]
		if p == nil {
			continue
		}
		writeShape(&b, p)
		cx, cy := p.x+p.w/2, p.y+p.h/2
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" font-weight="bold" text-anchor="middle" fill="#1f2328">%s</text>`+"\n", cx, cy-2, xmlText.Replace(clip(p.n.Label)))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" text-anchor="middle" fill="#424a53">%s</text>`+"\n", cx, cy+12, xmlText.Replace(clip(p.n.Detail)))
	}
	b.WriteString(labels.String())
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeShape draws a node's outline, shaped by its kind as in Mermaid.
func writeShape(b *strings.Builder, p *placed) {
	c := palette[p.n.Kind]
	paint := fmt.Sprintf(`fill="%s" stroke="%s" stroke-width="1.3"`, c.fill, c.stroke)
	x, y, w, h := p.x, p.y, p.w, p.h
	switch p.n.Kind {
	case Dataset:
		// A cylinder: body, then the top ellipse's front.
		fmt.Fprintf(b, `<path d="M%d,%d A%d,5 0 0 1 %d,%d V%d A%d,5 0 0 1 %d,%d Z" %s/>`+"\n", x, y+5, w/2, x+w, y+5, y+h-5, w/2, x, y+h-5, paint)
		fmt.Fprintf(b, `<path d="M%d,%d A%d,5 0 0 0 %d,%d" fill="none" stroke="%s" stroke-width="1.3"/>`+"\n", x, y+5, w/2, x+w, y+5, c.stroke)
	case Step:
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" rx="14" %s/>`+"\n", x, y, w, h, paint)
	case Model:
		fmt.Fprintf(b, `<polygon points="%d,%d %d,%d %d,%d %d,%d" %s/>`+"\n", x+10, y, x+w, y, x+w-10, y+h, x, y+h, paint)
	case Serving:
		fmt.Fprintf(b, `<polygon points="%d,%d %d,%d %d,%d %d,%d %d,%d %d,%d" %s/>`+"\n", x+10, y, x+w-10, y, x+w, y+h/2, x+w-10, y+h, x+10, y+h, x, y+h/2, paint)
	case Sweep:
		fmt.Fprintf(b, `<polygon points="%d,%d %d,%d %d,%d %d,%d %d,%d" %s/>`+"\n", x, y, x+w-12, y, x+w, y+h/2, x+w-12, y+h, x, y+h, paint)
	case Notebook:
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" %s/>`+"\n", x, y, w, h, paint)
		fmt.Fprintf(b, `<path d="M%d,%d V%d M%d,%d V%d" stroke="%s" stroke-width="1.3"/>`+"\n", x+7, y, y+h, x+w-7, y, y+h, c.stroke)
	default:
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" %s/>`+"\n", x, y, w, h, paint)
	}
}
