package diff

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteSummary writes what a reviewer reads first: how many objects were
// added, changed and removed, object counts per kind and GPU requests per
// environment, before → after, and the list of objects that differ.
func (r *Report) WriteSummary(w io.Writer) error {
	if !r.Changed() {
		_, err := fmt.Fprintln(w, "No changes.")
		return err
	}
	n := map[Op]int{}
	for _, o := range r.Objects {
		n[o.Op]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d files differ; objects: %d added, %d changed, %d removed\n", len(r.Files), n[Added], n[Changed], n[Removed])

	b.WriteString("\nObjects per kind (before → after):\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, k := range slices.Sorted(maps.Keys(r.Kinds)) {
		c := r.Kinds[k]
		fmt.Fprintf(tw, "  %s\t%d → %d%s\n", k, c.Before, c.After, mark(c))
	}
	tw.Flush()

	b.WriteString("\nGPU requests per environment (before → after):\n")
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	any := false
	for _, env := range slices.Sorted(maps.Keys(r.GPUs)) {
		for _, res := range slices.Sorted(maps.Keys(r.GPUs[env])) {
			c := r.GPUs[env][res]
			fmt.Fprintf(tw, "  %s\t%s\t%d → %d%s\n", env, res, c.Before, c.After, mark(c))
			any = true
		}
	}
	tw.Flush()
	if !any {
		b.WriteString("  none\n")
	}
	if len(r.Budgets) > 0 {
		b.WriteString("\nGPU demand at worst per environment (after):\n")
		tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, g := range r.Budgets {
			verdict := ""
			if fit := g.Fit(); fit == DoesNotFit || fit == FitsInTurns {
				verdict = "  (" + fit + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\theld %d + largest run %d = %d, all at once %d, quota %d%s\n", g.Env, g.Resource, g.Held, g.Largest, g.Held+g.Largest, g.All, g.Quota, verdict)
		}
		tw.Flush()
	}

	if len(r.Objects) > 0 {
		b.WriteString("\nObjects:\n")
		for _, o := range r.Objects {
			sign, where := "~", o.NewPath
			switch o.Op {
			case Added:
				sign = "+"
			case Removed:
				sign, where = "-", o.OldPath
			}
			if o.Op == Changed && o.OldPath != o.NewPath {
				where = o.OldPath + " → " + o.NewPath
			}
			fmt.Fprintf(&b, "  %s %s (%s)\n", sign, o.ObjectID, where)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mark(c Count) string {
	if c.Before == c.After {
		return ""
	}
	return fmt.Sprintf("  (%+d)", c.After-c.Before)
}

// WriteUnified writes the unified diff of every file that differs, in path
// order.
func (r *Report) WriteUnified(w io.Writer) error {
	for _, f := range r.Files {
		if _, err := io.WriteString(w, f.Unified); err != nil {
			return err
		}
	}
	return nil
}
