package cli

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/diff"
	"github.com/kiln-ml/kiln/fleet"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/term"
	"github.com/kiln-ml/kiln/validate"
)

type checkOptions struct {
	diag    diagOptions
	out     string
	crds    string
	noDrift bool
}

func (a *app) newCheckCmd() *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check [DIR...]",
		Short: "Vet, render, validate and detect drift of the committed output (for CI)",
		Long: `Check is what CI runs on every pull request. It vets the spec in DIR (default:
the current directory), renders every environment in memory and then checks
the output:

  - every object is validated the way the API server would: built-in kinds
    (namespaces, RBAC, quotas, workloads, ...) are decoded strictly and
    checked; custom resources are validated against the CRDs in --crds.
    Without --crds no CRD is loaded, and objects of kinds that neither a CRD
    nor the built-in types serve are reported once per kind as skipped (a
    warning), not as failures. kustomization.yaml is not a cluster object and
    is not validated.
  - every pod template is checked against the Pod Security "restricted"
    profile the way its namespace (as kiln renders it) will treat it: where
    the namespace enforces restricted, a violation is an error; where an
    entry asks for security: profile: "baseline", the namespace enforces
    baseline and only warns about restricted, so violations become
    warnings, and those of the baseline entries themselves are not
    reported;
  - the committed output directory (--out) must equal a fresh render: any
    file that differs, is missing or is stale is reported as drift, with its
    path, and fails the check (so is the output of a system whose spec was
    removed or renamed, as render would delete it). Run 'kiln render' and
    commit to fix it.
    When the output is not committed beside the spec but published to
    another repository ('kiln publish'), pass --no-drift.

Several spec directories, or DIR/... for every spec at or below DIR, are each
checked as above (drift against the same --out, each system's own
directories), then together, as vet does: no namespace, expose host or
object claimed by two systems on one cluster, no two systems of one name.

The summary counts the objects as vet and render do (every environment's and
Argo CD's; not kustomization.yaml) and says how many of them were validated.

Problems in the output point at the spec entry the object came from (drift
points at the output file). With -o github they become annotations on the pull
request.`,
		Example: `  kiln check examples/skin-lesion
  kiln check --crds ../crds -o github ./spec`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.diag.parse()
			if err != nil {
				return err
			}
			// Loading CRDs and validating take seconds: say so on a
			// terminal, and nothing in CI.
			progress := term.NewProgress(a.stderr)
			defer progress.Clear()
			var v *validate.Validator
			if o.crds != "" {
				progress.Show("loading CRDs from %s…", o.crds)
				if v, err = validate.Load(o.crds); err != nil {
					return err
				}
			}
			out := o.out
			if o.noDrift {
				out = ""
			}
			dirs, err := specDirs(args)
			if err != nil {
				return err
			}
			var diags diag.List
			var results []*render.Result
			var summaries []string
			for _, dir := range dirs {
				progress.Show("rendering and checking %s…", dir)
				res, d, summary, err := runCheck(cmd.Context(), dir, out, v)
				if err != nil {
					return err
				}
				diags = append(diags, d...)
				if res != nil {
					results = append(results, res)
					summaries = append(summaries, summary)
				}
			}
			progress.Clear()
			if !diags.HasErrors() {
				diags = append(diags, fleet.Check(results)...)
			}
			if out != "" && !diags.HasErrors() {
				d, err := goneDrift(out, args, results, dirs)
				if err != nil {
					return err
				}
				diags = append(diags, d...)
			}
			if err := a.report(f, diags.Sort()); err != nil {
				return err
			}
			for _, summary := range summaries {
				fmt.Fprintf(a.stderr, "%s %s\n", term.NewPainter(a.stderr).Paint(term.Green, "ok:"), summary)
			}
			return nil
		},
	}
	o.diag.addFlags(cmd)
	cmd.Flags().StringVar(&o.out, "out", "deploy", "output directory holding the committed output")
	cmd.Flags().BoolVar(&o.noDrift, "no-drift", false, "skip the comparison with the committed output (when it is published elsewhere)")
	cmd.Flags().StringVar(&o.crds, "crds", "", "directory of CustomResourceDefinitions to validate custom resources against (default: none)")
	return cmd
}

// unknownKindPrefix starts the validator's message for an object whose kind
// it has no type for.
const unknownKindPrefix = "no CRD or built-in type for "

// runCheck runs every check of one system and returns its render (nil
// when the spec has errors), the diagnostics and a one-line summary.
func runCheck(ctx context.Context, dir, out string, v *validate.Validator) (*render.Result, diag.List, string, error) {
	res, files, scope, diags, err := freshTree(ctx, dir, nil)
	if err != nil || files == nil {
		return nil, diags, "", err
	}
	objDiags, checked, skipped := checkObjects(res, files, v)
	diags = append(diags, objDiags...)
	summary := fmt.Sprintf("%s, %d objects", envSummary(res.System.Name, envsOf(res)), checked)
	switch {
	case skipped == 0:
		summary += ", all validated"
	case skipped == checked:
		summary += ", none validated (no CRD for their kinds; pass --crds DIR)"
	default:
		summary += fmt.Sprintf(": %d validated, %d not (no CRD for their kinds; pass --crds DIR)", checked-skipped, skipped)
	}
	if out == "" {
		return res, diags.Sort(), summary, nil
	}
	summary += ", output in " + out + " up to date"
	committed, err := diff.ReadTree(out, scope)
	if err != nil {
		return nil, nil, "", err
	}
	rep := diff.Compare(committed, files)
	for _, f := range rep.Files {
		pos := diag.Pos{File: filepath.ToSlash(filepath.Join(out, f.Path))}
		switch f.Op {
		case diff.Added:
			diags.Errorf(pos, "", "drift: missing from the committed output; run 'kiln render' and commit")
		case diff.Removed:
			diags.Errorf(pos, "", "drift: stale, a fresh render no longer has it; run 'kiln render' and commit")
		default:
			diags.Errorf(pos, "", "drift: differs from a fresh render; run 'kiln render' and commit (see 'kiln diff')")
		}
	}
	return res, diags.Sort(), summary, nil
}

// podSecurityRestricted is the strictest Pod Security level.
const podSecurityRestricted = "restricted"

// restrictedContainerSC is the securityContext restricted asks of a
// container, as katib-config gives it when a spec says katib.restricted.
var restrictedContainerSC = map[string]any{
	"runAsNonRoot": true, "allowPrivilegeEscalation": false,
	"capabilities": map[string]any{"drop": []any{"ALL"}}, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
}

// enforcedLevels returns the Pod Security level each namespace among items
// enforces, read from the Namespace objects the platform renderer emits
// (its pod-security.kubernetes.io/enforce label): the level the cluster
// will admit the pods of every object in that namespace at.
func enforcedLevels(items []render.Item) map[string]string {
	out := map[string]string{}
	for _, it := range items {
		if gvk := it.GVK(); gvk.Group == "" && gvk.Kind == "Namespace" {
			if lvl := it.Object.GetLabels()["pod-security.kubernetes.io/enforce"]; lvl != "" {
				out[it.Object.GetName()] = lvl
			}
		}
	}
	return out
}

// checkObjects validates every rendered object (not kustomization.yaml,
// which is no cluster object) and checks its pods against Pod Security
// restricted. Problems point at the spec entry the object came from. It
// returns the diagnostics, the number of objects checked and how many of
// them could not be validated for want of a CRD.
func checkObjects(res *render.Result, files map[string][]byte, v *validate.Validator) (diags diag.List, checked, skipped int) {
	items := map[string]render.Item{}
	baseline := map[string]bool{}
	enforced := map[string]string{}             // output path -> level its namespace enforces
	clusterOf := map[string]*validate.Cluster{} // output path -> the controllers as its environment has them
	for i, e := range res.Environments {
		levels := enforcedLevels(e.Items)
		cl := &validate.Cluster{}
		if k := res.System.Environments[i].Spec.Katib; k != nil && k.Restricted {
			// The spec says katib-config secures Katib's containers.
			cl.KatibInjectSecurityContext = true
			cl.KatibSuggestionSecurityContext = restrictedContainerSC
		}
		if o := res.System.Environments[i].Spec.TrainingOperator; o != nil && o.Restricted {
			// The spec says the operator's template secures init-pytorch.
			cl.PyTorchInitContainerSecurityContext = restrictedContainerSC
		}
		for _, it := range e.Items {
			p := e.Dir + "/" + render.FileName(it)
			items[p] = it
			// The renderer that built the object's pods says what level
			// they are built for.
			baseline[p] = it.Origin.PodSecurity == render.PodSecurityBaseline
			enforced[p] = levels[it.Object.GetNamespace()]
			clusterOf[p] = cl
		}
	}
	// System-level objects (Argo CD's AppProject and Applications) are
	// cluster objects too; they run no pods.
	for _, d := range res.Dirs {
		for _, it := range d.Items {
			items[d.Dir+"/"+render.FileName(it)] = it
		}
	}
	docs := map[string][]byte{}
	for p, b := range files {
		if _, ok := items[p]; ok {
			docs[p] = b
		}
	}
	// The containers KServe adds come from the ClusterStorageContainers
	// the same environment installs.
	for p, cl := range clusterOf {
		if it := items[p]; it.GVK().Kind == "ClusterStorageContainer" {
			*cl = cl.WithObjects(docs[p])
		}
	}
	skippedKinds := map[string]int{}
	problems := v.ValidateAll(docs)
	for _, p := range slices.Sorted(maps.Keys(docs)) {
		it := items[p]
		var all []string
		for _, msg := range problems[p] {
			if strings.HasPrefix(msg, unknownKindPrefix) {
				skippedKinds[strings.TrimPrefix(msg, unknownKindPrefix)]++
				continue
			}
			all = append(all, msg)
		}
		for _, msg := range all {
			diags.Errorf(it.Origin.Pos, it.Origin.Path, "%s (%s): %s", it.GVK().Kind+" "+it.Object.GetName(), p, msg)
		}
		// Pods are checked as admission sees them: with the containers
		// Argo, KServe, Seldon and Katib add at run time.
		cl := validate.Cluster{}
		if c := clusterOf[p]; c != nil {
			cl = *c
		}
		lvl := enforced[p]
		// Pods built for baseline (their entry, or the training entry a
		// sweep's trials run, or an image build, asks for it) are not
		// held to restricted, but still to baseline, which their
		// namespace enforces.
		if baseline[p] {
			if lvl == render.PodSecurityBaseline {
				for _, msg := range validate.PodViolations(docs[p], lvl, cl) {
					diags.Errorf(it.Origin.Pos, it.Origin.Path, "%s (%s): Pod Security %s: %s", it.GVK().Kind+" "+it.Object.GetName(), p, lvl, msg)
				}
			}
			continue
		}
		// The namespace decides what admission does with a violation:
		// under restricted the pod is refused; under a weaker level that
		// some entry asked for, the pod runs and the namespace's
		// warn=restricted label reports it.
		if lvl != "" && lvl != podSecurityRestricted {
			for _, msg := range validate.PodViolations(docs[p], lvl, cl) {
				diags.Errorf(it.Origin.Pos, it.Origin.Path, "%s (%s): Pod Security %s: %s", it.GVK().Kind+" "+it.Object.GetName(), p, lvl, msg)
			}
		}
		for _, msg := range validate.PodViolations(docs[p], podSecurityRestricted, cl) {
			if lvl != "" && lvl != podSecurityRestricted {
				diags.Add(diag.Warnf(it.Origin.Pos, it.Origin.Path, "%s (%s): Pod Security restricted (warned only; the namespace enforces %s): %s", it.GVK().Kind+" "+it.Object.GetName(), p, lvl, msg))
				continue
			}
			diags.Errorf(it.Origin.Pos, it.Origin.Path, "%s (%s): Pod Security restricted: %s", it.GVK().Kind+" "+it.Object.GetName(), p, msg)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(skippedKinds)) {
		diags.Add(diag.Warnf(diag.Pos{}, "", "%d object(s) of %s not validated: no CRD for it (pass --crds DIR)", skippedKinds[k], k))
		skipped += skippedKinds[k]
	}
	return diags, len(docs), skipped
}
