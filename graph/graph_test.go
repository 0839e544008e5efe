package graph_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"io"
	"path/filepath"
	"testing"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/graph"
	"github.com/kiln-ml/kiln/render/rendertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden draws every example in each format and compares the result
// with testdata/<example>.<ext>, the whole directory: a drawing no longer
// made fails too, and -update deletes it. The SVG of skin-lesion is the
// README's picture.
func TestGolden(t *testing.T) {
	got := map[string][]byte{}
	for _, ex := range []string{"skin-lesion", "fraud-detect", "llm-finetune"} {
		sys, diags := compiler.Compile(context.Background(), filepath.Join("..", "examples", ex), compiler.Options{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", ex, diags)
		}
		for format, ext := range map[string]string{"mermaid": "mmd", "dot": "dot", "svg": "svg"} {
			var b bytes.Buffer
			if err := graph.Build(sys).Write(&b, format); err != nil {
				t.Fatal(err)
			}
			got[ex+"."+ext] = b.Bytes()
		}
	}
	rendertest.GoldenDir(t, "testdata", got, *update)
}

// TestBuild checks what the picture says, independent of any format: the
// flow between entries of one environment, as the skin-lesion spec has it.
func TestBuild(t *testing.T) {
	sys, diags := compiler.Compile(context.Background(), filepath.Join("..", "examples", "skin-lesion"), compiler.Options{Environments: []string{"prod"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g := graph.Build(sys)
	label := map[string]string{}
	for _, n := range g.Nodes {
		label[n.ID] = n.Kind.String() + " " + n.Label
	}
	edges := map[string]bool{}
	for _, e := range g.Edges {
		s := label[e.From] + " -> " + label[e.To]
		if e.Label != "" {
			s += " [" + e.Label + "]"
		}
		if e.Style == graph.Dashed {
			s += " dashed"
		}
		edges[s] = true
	}
	for _, want := range []string{
		"dataset isic -> step ingest",
		"dataset isic -> training resnet",
		"step ingest -> step preprocess",
		"step train -> training resnet [runs]",
		"step promote -> serving classifier [promotes] dashed",
		// The exit handler follows the steps nothing waits for.
		"step promote -> step notify [on exit] dashed",
		"sweep resnet-tune -> training resnet [tunes] dashed",
		"model s3://acme-models/skin/v7 -> serving classifier [stable 90%]",
		"model s3://acme-models/skin/v8 -> serving classifier [canary 10%]",
	} {
		if !edges[want] {
			t.Errorf("no edge %s", want)
		}
	}
	if len(g.Edges) != len(edges) {
		t.Errorf("%d edges, %d distinct: an edge is drawn twice", len(g.Edges), len(edges))
	}
	// The notebook lives in dev only.
	for _, n := range g.Nodes {
		if n.Kind == graph.Notebook {
			t.Errorf("prod has notebook %s", n.Label)
		}
	}
	if len(g.Clusters) != 2 || g.Clusters[1].Parent != g.Clusters[0].ID || g.Clusters[1].Label != "pipeline retrain · 0 3 * * 1 Europe/Berlin" {
		t.Errorf("clusters = %+v", g.Clusters)
	}
}

// TestSVGWellFormed parses the SVG as XML: an unescaped label would break
// every viewer.
func TestSVGWellFormed(t *testing.T) {
	sys, diags := compiler.Compile(context.Background(), filepath.Join("..", "examples", "skin-lesion"), compiler.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g := graph.Build(sys)
	g.Title = `a <b> & "c"`
	var b bytes.Buffer
	if err := g.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&b)
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
}
