// Command floodbench measures what a flood of hostile datagrams costs the
// clients of a netcode.Server over real UDP on loopback. N clients each
// send the server an unreliable message every tick, and the server sends
// each of them one, on a 60 Hz tick; after a warm-up, a flood of hostile
// datagrams — half random bytes of random length, half mutated copies of
// the clients' own datagrams (their connect requests and packets, a few
// bytes changed), from other local ports — is sent to the server as fast as
// one process sends them: floodbench runs itself a second time as the
// attacker, whose sender goroutines (-senders, default one) each write from
// their own socket with sendmmsg (in one process with the server, the
// senders would starve the server's reader goroutine of the CPUs and
// measure Go's scheduler). It
// prints the clients' message loss in both directions before and during
// the flood, the server's tick overruns and slowest tick during it, the
// process heap, and the server's drop and refusal counters.
//
//	go run ./netcode/cmd/floodbench -clients 20 -hostile 400000
//	go run ./netcode/cmd/floodbench -clients 20 -hostile 400000 -secure
//
// It also prints how many datagrams the kernel dropped on the server's
// socket during the flood (Linux): what arrives while the server process
// gets no CPU for longer than its socket buffer lasts (4 MiB, some 3,000
// datagrams) is lost before any queue of the server sees it.
//
// It exits 1 when a client lost its connection, or when -max-loss is set
// and the loss during the flood (either direction) exceeds it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// senderFlag runs the command as the attacker process (see attack).
const senderFlag = "-attacker"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == senderFlag {
		if err := attack(args[1:], os.Stdin, stdout); err != nil {
			fmt.Fprintln(stderr, "floodbench attacker:", err)
			return 1
		}
		return 0
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	rep, err := bench(context.Background(), o)
	if err != nil {
		fmt.Fprintln(stderr, "floodbench:", err)
		return 1
	}
	rep.print(stdout)
	if !rep.ok(o.maxLoss) {
		fmt.Fprintln(stderr, "floodbench: FAIL")
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("floodbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := defaultOptions()
	fs.IntVar(&o.clients, "clients", o.clients, "clients playing during the flood (1..1000)")
	fs.IntVar(&o.hostile, "hostile", o.hostile, "hostile datagrams to send (0..100000000)")
	fs.IntVar(&o.senders, "senders", o.senders, "sender goroutines, each with its own socket (1..64)")
	fs.BoolVar(&o.secure, "secure", o.secure, "run the server in secure mode (connect tokens, sealed packets)")
	fs.DurationVar(&o.warmup, "warmup", o.warmup, "play before the flood (the loss baseline)")
	fs.DurationVar(&o.cooldown, "cooldown", o.cooldown, "play after the flood before counting what arrived")
	fs.Float64Var(&o.maxLoss, "max-loss", o.maxLoss, "fail when the loss during the flood exceeds this share (0 = no check)")
	fs.Uint64Var(&o.seed, "seed", o.seed, "seed of the hostile datagrams")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the server process's CPU profile during the flood to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o options) validate() error {
	switch {
	case o.clients < 1 || o.clients > 1000:
		return fmt.Errorf("floodbench: -clients %d, want 1..1000", o.clients)
	case o.hostile < 0 || o.hostile > 100_000_000:
		return fmt.Errorf("floodbench: -hostile %d, want 0..100000000", o.hostile)
	case o.senders < 1 || o.senders > 64:
		return fmt.Errorf("floodbench: -senders %d, want 1..64", o.senders)
	case o.warmup < 100*time.Millisecond || o.cooldown < 100*time.Millisecond:
		return fmt.Errorf("floodbench: -warmup %v and -cooldown %v, want at least 100ms", o.warmup, o.cooldown)
	case o.maxLoss < 0 || o.maxLoss > 1:
		return fmt.Errorf("floodbench: -max-loss %v, want 0..1", o.maxLoss)
	}
	return nil
}
