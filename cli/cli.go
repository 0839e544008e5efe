package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/diag"
)

// Exit codes, as documented in `kiln --help`.
const (
	ExitOK       = 0 // success
	ExitFindings = 1 // the spec or its output has errors
	ExitUsage    = 2 // bad command line
	ExitInternal = 3 // environment or internal failure
)

const exitCodesHelp = `Exit codes:
  0  success
  1  the spec or its output has errors (or diff --exit-code found changes)
  2  usage error (unknown command or flag, bad arguments)
  3  environment or internal failure (unreadable files, write errors, a bug in kiln)
  130, 143  stopped by SIGINT or SIGTERM: the output is as it was, or, if the
     signal came while files were being written, the finished new output`

// bugReport follows the message of a panic.
const bugReport = "This is a kiln bug, please report it at https://github.com/kiln-ml/kiln/issues with the command you ran, the kiln version and the stack below."

// app holds what every command shares: where output goes.
type app struct {
	stdout, stderr io.Writer
	writing        writing
}

// findingsError marks a run that found errors in the spec; they have been
// printed already.
type findingsError struct{ n int }

func (e findingsError) Error() string { return fmt.Sprintf("%d error(s) found", e.n) }

// usageError marks a bad command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Main runs kiln with os.Args and returns the exit code.
// SIGINT and SIGTERM end it promptly (see interrupt.go).
func Main() int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &app{stdout: os.Stdout, stderr: os.Stderr}
	done := make(chan struct{})
	go a.onSignal(sigs, cancel, done, os.Exit)
	code := a.execute(ctx, a.newRootCmd(), os.Args[1:])
	close(done)
	if a.writing.signalled.Load() {
		select {} // the handler reports the signal and exits
	}
	return code
}

// Run runs kiln with args, writing to stdout and stderr, and returns the
// exit code. Tests call it directly.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	return a.execute(ctx, a.newRootCmd(), args)
}

// execute runs root with args and maps the outcome to an exit code. A
// panic anywhere on this goroutine is a bug in kiln, whatever the input:
// it becomes exit code 3 with a request to report it and the stack on
// stderr, rather than Go's exit code 2, which means a usage error here.
// Only this goroutine's panics can be recovered here: code that starts
// goroutines hands their panics back to its caller (validate does).
func (a *app) execute(ctx context.Context, root *cobra.Command, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(a.stderr, "kiln: internal error: %v\n%s\n%s", r, bugReport, debug.Stack())
			code = ExitInternal
		}
	}()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if a.writing.signalled.Load() {
		return ExitInternal // Main's signal handler says why
	}
	var fe findingsError
	if errors.As(err, &fe) || errors.As(err, new(changesError)) {
		return ExitFindings
	}
	fmt.Fprintf(a.stderr, "kiln: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		fmt.Fprintln(a.stderr, "Run 'kiln --help' for usage.")
		return ExitUsage
	}
	return ExitInternal
}

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "kiln",
		Short: "Compile ML systems described in CUE into GitOps-ready Kubernetes manifests",
		Long: `kiln validates a CUE spec of a whole ML system (training jobs, pipelines,
tuning sweeps, served models, notebooks, environments) and compiles it into
deterministic Kubernetes manifests, one directory per environment, for Argo CD
to sync.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	// --version prints what `kiln version` does.
	root.Version = version()
	root.SetVersionTemplate(versionLine())
	root.AddCommand(
		a.newInitCmd(),
		a.newVetCmd(),
		a.newRenderCmd(),
		a.newExplainCmd(),
		a.newSchemaCmd(),
		a.newVersionCmd(),
		a.newDiffCmd(),
		a.newCheckCmd(),
		a.newPublishCmd(),
		a.newPromoteCmd(),
		a.newSuggestCmd(),
		a.newGraphCmd(),
		a.newLineageCmd(),
	)
	for _, c := range root.Commands() {
		c.Long = c.Short + "\n\n" + c.Long
		if c.Long != "" {
			c.Long += "\n\n" + exitCodesHelp
		}
	}
	return root
}

// isCobraUsageError recognises cobra's own argument errors, which it does
// not type.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// diagOptions are the flags of commands that print diagnostics.
type diagOptions struct {
	format string
}

func (o *diagOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.format, "output", "o", string(diag.Text), "output format: text, json (one JSON document on stdout: the diagnostics and the command's result) or github (GitHub Actions annotations)")
}

func (o *diagOptions) parse() (diag.Format, error) {
	f, err := diag.ParseFormat(o.format)
	if err != nil {
		return "", usageError{err}
	}
	return f, nil
}

// reportBefore prints the diagnostics of a command that goes on to print
// a product (an explanation, a diff). With -o json stdout must hold one JSON
// document, so the diagnostics of a run without errors are not printed but
// returned, for writeJSON to print beside the product; otherwise pending is
// nil and it is report.
func (a *app) reportBefore(f diag.Format, l diag.List) (pending diag.List, err error) {
	if f != diag.JSON || l.HasErrors() {
		return nil, a.report(f, l)
	}
	if l == nil {
		l = diag.List{}
	}
	return l, nil
}

// writeJSON prints the one JSON document of a command run with -o json:
// {"diagnostics": […], <key>: <product>}.
func (a *app) writeJSON(diags diag.List, key string, product any) error {
	if diags == nil {
		diags = diag.List{}
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"diagnostics": diags, key: product})
}

// report prints diagnostics: text on stderr; json and github on stdout,
// where they are the command's product. It returns findingsError when any
// diagnostic is an error.
func (a *app) report(f diag.Format, l diag.List) error {
	w := a.stderr
	if f != diag.Text {
		w = a.stdout
	}
	if len(l) > 0 || f == diag.JSON {
		if err := diag.Write(w, f, l); err != nil {
			return err
		}
	}
	if l.HasErrors() {
		n := 0
		for _, d := range l {
			if d.Severity == diag.Error {
				n++
			}
		}
		return findingsError{n}
	}
	return nil
}
