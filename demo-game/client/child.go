package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// runChild runs cmd with this process's standard streams, forwards SIGINT
// and SIGTERM to it, and returns its exit status (1 when it could not
// start).
func runChild(cmd []string, stderr io.Writer) int {
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := c.Start(); err != nil {
		fmt.Fprintf(stderr, "client: starting the window %s: %v\n", cmd[0], err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	for {
		select {
		case s := <-sig:
			_ = c.Process.Signal(s)
		case err := <-done:
			var ee *exec.ExitError
			switch {
			case err == nil:
				return 0
			case errors.As(err, &ee):
				if code := ee.ExitCode(); code >= 0 {
					return code
				}
				return 1 // killed by a signal
			default:
				fmt.Fprintf(stderr, "client: the window %s: %v\n", cmd[0], err)
				return 1
			}
		}
	}
}
