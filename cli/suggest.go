package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/suggest"
)

type suggestOptions struct {
	request, next string
}

func (o *suggestOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.request, "request", "", "the request JSON to read (default $"+suggest.EnvRequest+")")
	cmd.Flags().StringVar(&o.next, "next", "", "where to write the next trials, - for stdout (default $"+suggest.EnvNext+")")
}

// newSuggestCmd is the suggest step of a tpe or bayesian sweep: it runs
// in the cluster, in the kiln image, when the sweep names no suggestion
// image of its own.
func (a *app) newSuggestCmd() *cobra.Command {
	o := &suggestOptions{}
	cmd := &cobra.Command{
		Use:   "suggest",
		Short: "Propose the next trials of an adaptive sweep (TPE), as a sweep's suggest step",
		Long: `suggest reads a sweep's history (the request JSON the sweep's plan step
writes: objective, parameters, trials, count) and writes the next trials to
try as a JSON list of {"<parameter>": value} objects, at most "count" of
them, chosen by a Tree-structured Parzen Estimator. It serves algorithm
"tpe" and "bayesian". The same request always gives the same trials.

The files are those of the suggestion contract: $` + suggest.EnvRequest + ` and
$` + suggest.EnvNext + `, which the sweep workflow sets; --request and --next
override them.`,
		Example: `  # as the sweep workflow runs it
  KILN_SWEEP_REQUEST=/tmp/kiln/in/request KILN_SWEEP_NEXT=/tmp/kiln/out/next kiln suggest

  # try it on a saved request
  kiln suggest --request request.json --next -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.request == "" {
				o.request = os.Getenv(suggest.EnvRequest)
			}
			if o.next == "" {
				o.next = os.Getenv(suggest.EnvNext)
			}
			if o.request == "" || o.next == "" {
				return usageError{fmt.Errorf("suggest needs the request and next files: set $%s and $%s, or --request and --next", suggest.EnvRequest, suggest.EnvNext)}
			}
			return a.suggest(o)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func (a *app) suggest(o *suggestOptions) error {
	b, err := os.ReadFile(o.request)
	if err != nil {
		return fmt.Errorf("suggest: %w", err)
	}
	req, err := suggest.ParseRequest(b)
	if err != nil {
		return fmt.Errorf("suggest: %s: %w", o.request, err)
	}
	next := suggest.Suggest(req, suggest.Options{})
	if next == nil {
		next = []suggest.Assignment{}
	}
	out, err := json.Marshal(next)
	if err != nil {
		return err
	}
	out = append(out, '\n')
	fmt.Fprintf(a.stderr, "suggest: %d trial(s) proposed from a history of %d\n", len(next), len(req.Trials))
	if o.next == "-" {
		_, err = a.stdout.Write(out)
		return err
	}
	// The workflow creates the request's directory (an input artifact),
	// not the output's.
	if err := os.MkdirAll(filepath.Dir(o.next), 0o755); err != nil {
		return fmt.Errorf("suggest: %w", err)
	}
	if err := os.WriteFile(o.next, out, 0o644); err != nil {
		return fmt.Errorf("suggest: %w", err)
	}
	return nil
}
