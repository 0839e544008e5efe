// Package graph draws a compiled system as a picture: how data flows from
// datasets through pipeline steps and training jobs to models and the
// endpoints that serve them, with sweeps and notebooks beside them, one
// cluster per environment.
//
// Build turns the IR into a Graph, a plain list of clusters, nodes and edges
// in a fixed order; the writers print it as Mermaid (which GitHub renders in
// Markdown, pull requests and comments), Graphviz DOT, or SVG laid out and
// drawn here in Go, so a picture needs no external program. Everything is
// sorted: the same spec always gives the same bytes, which is what lets a
// picture be committed and reviewed like any other output.
//
// graph reads the IR only; it imports ir and the standard library.
package graph
