// Package cli holds what the demo's commands (server, bots, client) share on
// the command line: the -version text from the binary's build info, and
// flag parsing that leaves the one error message to the command.
package cli

import (
	"errors"
	"flag"
	"io"
)

// Parse parses args with fs, keeping the flag package from printing: a
// command prints one message of its own for a bad command line. For -h it
// writes fs.Usage to out and returns flag.ErrHelp. fs.Usage must write to
// fs.Output().
func Parse(fs *flag.FlagSet, args []string, out io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(out)
		fs.Usage()
	}
	return err
}
