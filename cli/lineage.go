package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
	"github.com/kiln-ml/kiln/lineage/store"
)

type lineageOptions struct {
	envs    []string
	format  string
	records string
	find    bool
}

func (a *app) newLineageCmd() *cobra.Command {
	var o lineageOptions
	cmd := &cobra.Command{
		Use:   "lineage [DIR] [SYSTEM/SERVING]",
		Short: "Trace served models back to the runs and data that produced them",
		Long: `Lineage compiles the spec in DIR (default: the current directory) and, for every
environment and serving entry (or SERVING alone), follows each served model
version (the stable one and the canary) to the lineage record the spec names
for it (model.lineage, canary.lineage: written by the promote step of the run
that produced it) and prints the chain dataset → run → model → endpoint, with
the run's parameters, metrics, spec digest and the commit or pull request that
promoted it.

Records are JSON (kiln.dev/lineage/v1, see 'kiln lineage record'). A file://
record is read where it is; s3:// and gs:// records straight from the bucket:
S3 with the AWS SDK's standard credentials (environment, shared files, SSO,
the instance's role) at the endpoint and region the spec's artifacts.s3 gives
for that bucket (MinIO and other S3-compatible stores included), Cloud Storage
through its JSON API with Google Application Default Credentials
(STORAGE_EMULATOR_HOST is honoured). --records DIR reads a local copy of the
bucket instead (s3://BUCKET/KEY is read from DIR/KEY). A record that cannot be
read is said so, and the rest still prints.

--find looks, for a served model whose spec names no record (promoted by
hand, such as a sweep's best model), through the records of the
environment's runs in its artifact repository for the newest that produced
or promoted it.

-o text (the default) is for people, -o json for programs, -o mermaid draws
the chains (GitHub renders it in Markdown, as 'kiln graph' pictures).`,
		Example: `  kiln lineage examples/skin-lesion skin-lesion/classifier
  kiln lineage -e prod -o mermaid --find ./spec
  aws s3 sync s3://acme-ml-artifacts/skin-lesion/lineage records/skin-lesion/lineage
  kiln lineage examples/skin-lesion skin-lesion/classifier --records records`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(lineage.Formats, o.format) {
				return usageError{fmt.Errorf("-o %s: want one of %s", o.format, strings.Join(lineage.Formats, ", "))}
			}
			dir, target := ".", ""
			switch {
			case len(args) == 2:
				dir, target = args[0], args[1]
			case len(args) == 1 && strings.Contains(args[0], "/") && !isDir(args[0]):
				target = args[0]
			case len(args) == 1:
				dir = args[0]
			}
			system, serving := "", ""
			if target != "" {
				var ok bool
				system, serving, ok = strings.Cut(target, "/")
				if !ok || system == "" || serving == "" || strings.Contains(serving, "/") {
					return usageError{fmt.Errorf("want [DIR] [SYSTEM/SERVING], such as ./spec skin-lesion/classifier; got %q", target)}
				}
			}
			if !isDir(dir) {
				return fmt.Errorf("spec directory: %s is not a directory", dir)
			}
			sys, diags := compiler.Compile(cmd.Context(), dir, compiler.Options{Environments: o.envs})
			if err := unknownEnvironments(diags, o.envs); err != nil {
				return err
			}
			if err := a.report(diag.Text, diags); err != nil {
				return err
			}
			if system != "" && system != sys.Name {
				return usageError{fmt.Errorf("the spec in %s is system %q, not %q", dir, sys.Name, system)}
			}
			src := lineage.Source{Dir: o.records, Bucket: buckets(sys)}
			chains := lineage.Trace(cmd.Context(), sys, serving, src, o.find)
			if serving != "" && len(chains) == 0 {
				return usageError{fmt.Errorf("the spec has no serving entry %q", serving)}
			}
			return lineage.Write(a.stdout, chains, o.format)
		},
	}
	cmd.Flags().StringVarP(&o.format, "output", "o", "text", "output format: "+strings.Join(lineage.Formats, ", "))
	cmd.Flags().StringSliceVarP(&o.envs, "env", "e", nil, "only these environments (repeatable or comma-separated)")
	cmd.Flags().StringVar(&o.records, "records", "", "a local copy of the artifact repository's bucket to read s3:// and gs:// records from, instead of the bucket")
	cmd.Flags().BoolVar(&o.find, "find", false, "for a model the spec names no record for, find the newest run that produced it among the environment's records")
	cmd.AddCommand(a.newLineageRecordCmd())
	return cmd
}

// buckets opens the buckets records are read from, each once: an S3
// bucket where the spec's artifact repository for it says (endpoint,
// region), else AWS S3 itself; a Cloud Storage bucket.
func buckets(sys *ir.System) func(context.Context, string, string) (lineage.Store, error) {
	opened := map[string]lineage.Store{}
	return func(ctx context.Context, scheme, bucket string) (lineage.Store, error) {
		if st, ok := opened[scheme+"://"+bucket]; ok {
			return st, nil
		}
		var st lineage.Store
		switch scheme {
		case "s3":
			var repo *ir.S3Repository
			for _, env := range sys.Environments {
				if r := env.Spec.Artifacts; r != nil && r.S3 != nil && r.S3.Bucket == bucket {
					repo = r.S3
					break
				}
			}
			s3, err := store.NewS3(ctx, bucket, repo)
			if err != nil {
				return nil, err
			}
			st = s3
		case "gs":
			st = store.NewGCS(bucket)
		default:
			return nil, fmt.Errorf("%s://%s: not a bucket kiln reads", scheme, bucket)
		}
		opened[scheme+"://"+bucket] = st
		return st, nil
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

type lineageRecordOptions struct {
	in       lineage.Inputs
	history  string
	katib    string
	file     string
	uriFile  string
	finished string
}

func (a *app) newLineageRecordCmd() *cobra.Command {
	var o lineageRecordOptions
	cmd := &cobra.Command{
		Use:   "record --file FILE [flags]",
		Short: "Write a pipeline or sweep run's lineage record (run by the run's exit handler)",
		Long: `Record writes the lineage record of a pipeline or sweep run to --file, as JSON
(apiVersion kiln.dev/lineage/v1; its JSON Schema is lineage/record.schema.json
in kiln's repository), and its --uri to --uri-file. A pipeline's exit handler
runs it in the kiln image with every value as a flag: what kiln knew when it
rendered the pipeline, and Argo's expressions for the rest, so a failed run
gets a record too. Argo leaves the output of a step that never ran as written
({{…}}): such a value is left out of the record.

Output parameters that parse as numbers become metrics; those holding a
storage URI (s3://, gs://, pvc://, hf://, …) become models; the rest stay
outputs. A promotion is the JSON 'kiln promote --result' wrote; its commit is
the spec revision of the record.

A sweep's run (--sweep instead of --pipeline) records its search: the
algorithm, the objective, every trial (parameters, status, metrics) from
--history-file, the JSON history the sweep's bookkeeping keeps, and the best
trial (--best), whose parameters and metrics become the record's own.

A Katib sweep's Experiment has no exit handler to run this: after it ended,
--katib FILE writes its record from the Experiment and its Trials as kubectl
prints them (the sweep, algorithm, objective, trials, best trial and run times
come from them; give --system, --namespace, --env, --dataset, --uri).`,
		Example: `  kubectl -n derm-ml get experiment/resnet-tune-d0ec9304 trials -l katib.kubeflow.org/experiment=resnet-tune-d0ec9304 -o json |
    kiln lineage record --katib - --system skin-lesion --namespace derm-ml --env prod \
      --dataset isic=s3://acme-derm/isic-2020/ --file record.json
  kiln lineage record --system skin-lesion --namespace derm-ml --env prod --pipeline retrain \
      --run-name retrain-x7k2p --phase Succeeded --started 2026-12-07T02:00:04Z \
      --dataset isic=s3://acme-derm/isic-2020/ --param epochs=30 --output evaluate.accuracy=0.93 \
      --uri s3://acme-ml-artifacts/skin-lesion/lineage/derm-ml/skin-lesion/retrain/retrain-x7k2p.json \
      --file /tmp/lineage/record.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.in.Finished = time.Now()
			if o.katib != "" {
				// A Katib Experiment's record, from what the cluster
				// holds of it.
				b, err := readInput(o.katib)
				if err != nil {
					return err
				}
				if err := lineage.KatibInputs(b, &o.in); err != nil {
					return usageError{err}
				}
			}
			for name, v := range map[string]string{"system": o.in.System, "namespace": o.in.Namespace, "env": o.in.Environment, "run-name": o.in.RunName, "file": o.file} {
				if v == "" {
					return usageError{fmt.Errorf("--%s is required", name)}
				}
			}
			if (o.in.Pipeline == "") == (o.in.Sweep == "") {
				return usageError{fmt.Errorf("give one of --pipeline and --sweep")}
			}
			if o.in.Sweep != "" {
				for name, v := range map[string]string{"algorithm": o.in.Algorithm, "objective": o.in.Objective, "goal": o.in.Goal} {
					if v == "" {
						return usageError{fmt.Errorf("--%s is required with --sweep", name)}
					}
				}
			}
			if o.history != "" {
				b, err := os.ReadFile(o.history)
				if err != nil {
					return err
				}
				o.in.History = string(b)
			}
			if o.finished != "" {
				t, err := time.Parse(time.RFC3339, o.finished)
				if err != nil {
					return usageError{fmt.Errorf("--finished: %w", err)}
				}
				o.in.Finished = t
			}
			r, err := lineage.Build(o.in)
			if err != nil {
				return usageError{err}
			}
			b, err := r.Marshal()
			if err != nil {
				return err
			}
			if err := writeOut(o.file, b); err != nil {
				return err
			}
			if o.uriFile != "" {
				if err := writeOut(o.uriFile, []byte(r.URI)); err != nil {
					return err
				}
			}
			fmt.Fprintf(a.stderr, "lineage record of %s (%s) written to %s\n", r.Run.Name, r.Run.Phase, o.file)
			return nil
		},
	}
	f := cmd.Flags()
	in := &o.in
	f.StringVar(&in.System, "system", "", "the system's name")
	f.StringVar(&in.Namespace, "namespace", "", "the namespace the run ran in")
	f.StringVar(&in.Environment, "env", "", "the spec's environment")
	f.StringVar(&in.Pipeline, "pipeline", "", "the pipeline entry")
	f.StringVar(&in.RunName, "run-name", "", "the workflow's name ({{workflow.name}})")
	f.StringVar(&in.RunUID, "run-uid", "", "the workflow's UID ({{workflow.uid}})")
	f.StringVar(&in.Phase, "phase", "", "the run's status ({{workflow.status}})")
	f.StringVar(&in.Started, "started", "", "when the run was created, RFC 3339 ({{workflow.creationTimestamp}})")
	f.StringVar(&in.SpecDigest, "spec-digest", "", "digest of the pipeline as kiln rendered it")
	f.StringArrayVar(&in.Datasets, "dataset", nil, "a dataset read, NAME=URI (repeatable)")
	f.StringArrayVar(&in.Parameters, "param", nil, "a pipeline parameter, NAME=VALUE (repeatable)")
	f.StringArrayVar(&in.Outputs, "output", nil, "a step's output parameter, STEP.OUTPUT=VALUE (repeatable)")
	f.StringArrayVar(&in.Promotions, "promotion", nil, "what a promote step did, STEP=JSON from kiln promote --result (repeatable)")
	f.StringVar(&in.Sweep, "sweep", "", "the sweep entry, for a sweep's run (instead of --pipeline)")
	f.StringVar(&in.Algorithm, "algorithm", "", "the sweep's algorithm")
	f.StringVar(&in.Objective, "objective", "", "the sweep's objective metric")
	f.StringVar(&in.Goal, "goal", "", "the sweep's goal: maximize or minimize")
	f.StringVar(&in.Target, "target", "", "the sweep's target value of the objective, if any")
	f.StringVar(&o.history, "history-file", "", "file holding the sweep's history of trials (JSON, as its bookkeeping keeps it)")
	f.StringVar(&in.Best, "best", "", "the sweep's best trial ({{workflow.outputs.parameters.kiln-best-trial}})")
	f.StringVar(&o.katib, "katib", "", "a Katib sweep's Experiment and Trials, as 'kubectl get experiment/NAME trials -l katib.kubeflow.org/experiment=NAME -o json' prints them (- for stdin): the sweep, search, trials and run come from them")
	f.StringArrayVar(&in.Images, "image", nil, "an image the run built, NAME=REF@DIGEST (repeatable)")
	f.StringVar(&in.URI, "uri", "", "where the record is stored")
	f.StringVar(&o.file, "file", "", "file to write the record to")
	f.StringVar(&o.uriFile, "uri-file", "", "file to write the record's URI to (an output parameter)")
	// Replaying a run's inputs (tests, a record rewritten by hand) gives
	// the same bytes with the same finish time.
	f.StringVar(&o.finished, "finished", "", "when the run finished, RFC 3339 (default: now)")
	_ = f.MarkHidden("finished")
	return cmd
}

// readInput reads the file name, or standard input for "-".
func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// writeOut writes b to name, creating its directory.
func writeOut(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

// promotionResult writes what a promotion did, for the run's lineage
// record (lineage.Promotion as JSON).
func promotionResult(name string, p lineage.Promotion) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return writeOut(name, append(b, '\n'))
}
