package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kiln-ml/kiln/render/write"
)

// Interrupts. CUE's evaluator cannot be stopped part way: a large spec
// keeps it busy for seconds after the context is cancelled. So a signal
// does not wait for the command to notice it. Main's handler cancels the
// context and ends the process within half a second (a command that
// heeds the context, like publish, returns and cleans up in that time),
// unless files are being written:
// then it waits for the write to return. A write not yet begun never
// begins (guardWrite checks the context under the same lock); one that is
// staging its files (render/write writes them all to temporary files
// before it renames any) stops and removes them; one already renaming
// them finishes, which is quick. Files staged while they were encoded,
// before the write began (write.Stage), are discarded. The output directory is therefore either
// exactly as it was before the run or exactly what the run renders, never
// a mix, and the process exits with 128 + the signal's number, as a shell
// reports a process the signal killed.

// writing is held while a command changes files the user keeps.
type writing struct {
	mu        sync.Mutex
	wrote     bool           // a guarded write changed files
	stages    []*write.Stage // stages to discard when a signal ends the process
	signalled atomic.Bool    // the handler got a signal: Main leaves the exit to it
}

// guardWrite runs write unless ctx is already done, holding off the
// signal handler's exit while it runs. write should stop when ctx is done
// if it can do so leaving everything as it was, and return an error
// matching write.ErrStopped then.
func (a *app) guardWrite(ctx context.Context, f func() error) error {
	a.writing.mu.Lock()
	defer a.writing.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted before writing anything: %w", err)
	}
	err := f()
	a.writing.wrote = !errors.Is(err, write.ErrStopped)
	return err
}

// discardOnSignal has the signal handler discard s before it ends the
// process: render stages its files while it encodes them, before the
// guarded write that commits them, and a signal then must leave no staged
// file behind.
func (a *app) discardOnSignal(s *write.Stage) {
	a.writing.mu.Lock()
	defer a.writing.mu.Unlock()
	a.writing.stages = append(a.writing.stages, s)
}

// grace is how long the handler lets a command that heeds its context
// (publish's git processes, killed with it) return and clean up after
// itself, before ending the process anyway.
const grace = 500 * time.Millisecond

// onSignal waits for the first signal on sigs, cancels the run's context,
// gives the command grace to return (done is closed when it has), and,
// once no write is under way, calls exit with 128 + the signal.
func (a *app) onSignal(sigs <-chan os.Signal, cancel context.CancelFunc, done <-chan struct{}, exit func(int)) {
	sig, ok := <-sigs
	if !ok {
		return
	}
	a.writing.signalled.Store(true)
	cancel()
	select {
	case <-done:
	case <-time.After(grace):
	}
	a.writing.mu.Lock() // held until exit: no write starts after this
	for _, s := range a.writing.stages {
		s.Discard() // a no-op for a stage committed
	}
	what := "nothing was written"
	if a.writing.wrote {
		what = "the write under way was finished first"
	}
	fmt.Fprintf(a.stderr, "kiln: stopped by %v; %s\n", sig, what)
	code := ExitInternal
	if s, isSys := sig.(syscall.Signal); isSys {
		code = 128 + int(s)
	}
	exit(code)
}
