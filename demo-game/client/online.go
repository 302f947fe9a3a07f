package main

import (
	"errors"

	"github.com/tickwire/tickwire/demo-game/internal/clientui"
)

// dial connects to the demo server at opts.Addr.
func dial(opts clientui.Options) (clientui.Source, error) {
	return nil, errors.New("client: online mode is not wired yet (waiting for the connection layer and the server protocol); run with -offline")
}
