package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/diff"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/platform"
	"github.com/kiln-ml/kiln/term"
)

type diffOptions struct {
	diag     diagOptions
	envs     []string
	out      string
	exitCode bool
	summary  bool
	github   bool
}

func (a *app) newDiffCmd() *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff [DIR]",
		Short: "Show what a fresh render would change in the committed output",
		Long: `Diff renders the spec in DIR (default: the current directory) in memory and
compares it with the output directory (--out) as committed: the objects that
would be added, changed or removed (matched by environment, kind, namespace and
name as parsed from the files), a summary with object counts per kind and GPU
requests per environment before → after, and a unified diff of every file.

GPU requests sum nvidia.com/gpu and nvidia.com/mig-* over every container of
every pod template, each the larger of its request and limit, times the
replicas of its replica spec (minReplicas for autoscaled serving).

Only files kiln generated (those in <out>/.kiln-index) are compared, so
hand-written files beside them never show up as removed. Nothing is written.
With --exit-code the command exits 1 when there are changes.

With --github the command prints, instead, the Markdown comment kiln publish
--github posts on its pull request: a Mermaid picture of the spec entries whose
objects change in each environment (green: added, amber: changed, red:
removed; an environment's title carries its GPU change), then the summary.
Post it on a pull request from CI, e.g. with 'gh pr comment --body-file -'.`,
		Example: `  kiln diff examples/skin-lesion
  kiln diff -e prod --summary ./spec
  kiln diff --exit-code --out deploy ./spec || echo "output is stale"
  kiln diff --github ./spec | gh pr comment "$PR" --body-file -`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.diag.parse()
			if err != nil {
				return err
			}
			if o.github && f != diag.Text {
				return usageError{fmt.Errorf("--github prints Markdown; it does not combine with -o %s", f)}
			}
			name, rep, diags, err := diffTree(cmd.Context(), specDir(args), o.envs, o.out)
			if err != nil {
				return err
			}
			pending, err := a.reportBefore(f, diags)
			if err != nil || rep == nil {
				return err
			}
			if o.github {
				if _, err := io.WriteString(a.stdout, rep.Markdown(diffTitle(name))); err != nil {
					return err
				}
			} else if f == diag.JSON {
				if err := a.writeJSON(pending, "diff", diffJSON(rep, !o.summary)); err != nil {
					return err
				}
			} else if err := rep.WriteSummary(a.stdout); err != nil {
				return err
			}
			if f != diag.JSON && !o.github && !o.summary && rep.Changed() {
				if _, err := a.stdout.Write([]byte("\n")); err != nil {
					return err
				}
				var b strings.Builder
				rep.WriteUnified(&b)
				if _, err := io.WriteString(a.stdout, paintUnified(term.NewPainter(a.stdout), b.String())); err != nil {
					return err
				}
			}
			if o.exitCode && rep.Changed() {
				return changesError{}
			}
			return nil
		},
	}
	o.diag.addFlags(cmd)
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "compare only these environments (repeatable or comma-separated)")
	cmd.Flags().StringVar(&o.out, "out", "deploy", "output directory holding the committed output")
	cmd.Flags().BoolVar(&o.exitCode, "exit-code", false, "exit with 1 when there are changes")
	cmd.Flags().BoolVar(&o.summary, "summary", false, "print the summary only, without the unified diff")
	cmd.Flags().BoolVar(&o.github, "github", false, "print the pull-request comment (Markdown with a Mermaid picture of what changed) instead")
	return cmd
}

// diffReport is a diff.Report as -o json prints it.
type diffReport struct {
	Changed bool         `json:"changed"`
	Files   []diffFile   `json:"files"`
	Objects []diffObject `json:"objects"`
	// Kinds counts objects per kind before and after.
	Kinds map[string]diffCount `json:"kinds"`
	// GPUs sums GPU requests: environment -> resource -> before, after.
	GPUs map[string]map[string]diffCount `json:"gpus"`
	// Budgets is the fresh render's GPU demand at worst per environment
	// and resource, against the quota, as the summary shows it.
	Budgets []diffBudget `json:"budgets"`
}

// diffBudget is a diff.Budget: what long-running entries hold, the most
// one run adds, their sum (worstCase), every entry at its peak at once,
// the quota (0: none) and how the demand fits it (diff.Budget.Fit).
type diffBudget struct {
	Environment string `json:"environment"`
	Resource    string `json:"resource"`
	Held        int    `json:"held"`
	Largest     int    `json:"largestRun"`
	WorstCase   int    `json:"worstCase"`
	AllAtOnce   int    `json:"allAtOnce"`
	Quota       int    `json:"quota"`
	Fit         string `json:"fit"`
}

type diffFile struct {
	Path string `json:"path"`
	Op   string `json:"op"`
	// Unified is the file's unified diff, left out with --summary.
	Unified string `json:"unified,omitempty"`
}

type diffObject struct {
	Op          string `json:"op"`
	Environment string `json:"environment"`
	Group       string `json:"group,omitempty"`
	Kind        string `json:"kind"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name"`
	OldPath     string `json:"oldPath,omitempty"`
	NewPath     string `json:"newPath,omitempty"`
}

type diffCount struct {
	Before int64 `json:"before"`
	After  int64 `json:"after"`
}

func diffJSON(r *diff.Report, unified bool) diffReport {
	out := diffReport{
		Changed: r.Changed(),
		Files:   []diffFile{},
		Objects: []diffObject{},
		Kinds:   map[string]diffCount{},
		GPUs:    map[string]map[string]diffCount{},
		Budgets: []diffBudget{},
	}
	for _, b := range r.Budgets {
		out.Budgets = append(out.Budgets, diffBudget{
			Environment: b.Env, Resource: b.Resource, Held: b.Held, Largest: b.Largest,
			WorstCase: b.Held + b.Largest, AllAtOnce: b.All, Quota: b.Quota, Fit: b.Fit(),
		})
	}
	for _, f := range r.Files {
		df := diffFile{Path: f.Path, Op: string(f.Op)}
		if unified {
			df.Unified = f.Unified
		}
		out.Files = append(out.Files, df)
	}
	for _, o := range r.Objects {
		out.Objects = append(out.Objects, diffObject{
			Op: string(o.Op), Environment: o.Env, Group: o.Group, Kind: o.Kind,
			Namespace: o.Namespace, Name: o.Name, OldPath: o.OldPath, NewPath: o.NewPath,
		})
	}
	for k, c := range r.Kinds {
		out.Kinds[k] = diffCount{c.Before, c.After}
	}
	for env, res := range r.GPUs {
		m := map[string]diffCount{}
		for name, c := range res {
			m[name] = diffCount{c.Before, c.After}
		}
		out.GPUs[env] = m
	}
	return out
}

// changesError is `kiln diff --exit-code` finding changes: exit code 1,
// nothing more to print.
type changesError struct{}

func (changesError) Error() string { return "changes found" }

// freshTree compiles and renders the spec in memory and returns the file
// tree with the scope a write of it would have: every environment of the
// system, or only those asked for.
func freshTree(ctx context.Context, dir string, envs []string) (*render.Result, map[string][]byte, func(string) bool, diag.List, error) {
	res, diags, err := build(ctx, dir, envs)
	if err != nil || res == nil {
		return nil, nil, nil, diags, err
	}
	files, err := render.Files(res)
	if err != nil {
		return nil, nil, nil, diags, err
	}
	return res, files, renderScope(res.System.Name, envsOf(res), len(envs) > 0), diags, nil
}

// diffTree compares a fresh render with the output under out and returns
// the system's name with the report. The report is nil when the spec has
// errors (returned in the list).
func diffTree(ctx context.Context, dir string, envs []string, out string) (string, *diff.Report, diag.List, error) {
	res, files, scope, diags, err := freshTree(ctx, dir, envs)
	if err != nil || files == nil {
		return "", nil, diags, err
	}
	old, err := diff.ReadTree(out, scope)
	if err != nil {
		return "", nil, diags, err
	}
	r := diff.Compare(old, files)
	for _, e := range res.Environments {
		for _, b := range platform.Budgets(e.GPUDemands) {
			r.Budgets = append(r.Budgets, diff.Budget{Env: e.Name, Resource: b.Resource, Held: b.Held, Largest: b.Largest, All: b.All, Quota: e.GPUQuota})
		}
	}
	return res.System.Name, r, diags, nil
}

// paintUnified colours a unified diff for a terminal, as git does:
// headers bold, hunks cyan, removed lines red, added lines green. With
// colour off it returns the diff unchanged.
func paintUnified(p term.Painter, s string) string {
	if !p.Enabled() {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		var c term.Color
		switch {
		case strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ "):
			c = term.Bold
		case strings.HasPrefix(l, "@@"):
			c = term.Cyan
		case strings.HasPrefix(l, "-"):
			c = term.Red
		case strings.HasPrefix(l, "+"):
			c = term.Green
		default:
			continue
		}
		lines[i] = p.Paint(c, body) + l[len(body):]
	}
	return strings.Join(lines, "")
}

// diffTitle heads the pull-request comment of kiln diff --github.
func diffTitle(system string) string { return "kiln diff: " + system }
