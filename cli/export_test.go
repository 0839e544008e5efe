package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ParseArgs parses a kiln argument vector (without the program name) as
// `kiln` would before running anything: it finds the subcommand, parses
// its flags and checks its positional arguments and required flags. It
// returns the subcommand, its positional arguments and the value of every
// flag the vector sets (a list flag's values one by one). Nothing runs.
func ParseArgs(args []string) (cmd *cobra.Command, positional []string, flags map[string][]string, err error) {
	a := &app{stdout: io.Discard, stderr: io.Discard}
	root := a.newRootCmd()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return nil, nil, nil, err
	}
	if cmd == root {
		return nil, nil, nil, fmt.Errorf("no kiln subcommand in %q", args)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return nil, nil, nil, err
	}
	positional = cmd.Flags().Args()
	if err := cmd.ValidateArgs(positional); err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return nil, nil, nil, err
	}
	flags = map[string][]string{}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if s, ok := f.Value.(pflag.SliceValue); ok {
			flags[f.Name] = s.GetSlice()
			return
		}
		flags[f.Name] = []string{f.Value.String()}
	})
	return cmd, positional, flags, nil
}
