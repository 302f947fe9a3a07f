package clientui

import (
	"errors"
	"time"

	"github.com/tickwire/tickwire/demo-game/game"
	"github.com/tickwire/tickwire/netcode/netsim"
)

// ErrNoLink is returned by SetLink of a source without a socket (offline).
var ErrNoLink = errors.New("clientui: no network link in offline mode")

// View is what the client draws in one frame.
type View struct {
	Tick     uint32        // tick of the state shown (server tick estimate online)
	Entities []game.Entity // everything to draw, own player included
	Own      uint32        // the local player's ID; 0 before it exists
	Ghost    *game.Entity  // the server's latest state of the own player; nil for none
	Sample   Sample        // network readings for the HUD
	Online   bool          // whether Sample holds real readings
	Status   string        // one line about the connection, e.g. "127.0.0.1:7777: connected as player 3"
	Detail   string        // a second line: the client runtime's counters ("" offline)
	Warn     bool          // the connection is down: draw Status as a warning
}

// Source is where the client's state comes from: the rules run locally
// (Offline), a server over the network (Online), or a server in the same
// process (demo-game/internal/loopback). The client calls Update once per
// tick with the local input, then View once per frame.
type Source interface {
	Update(now time.Time, in game.Input, t Toggles) error
	View(now time.Time, t Toggles) View
	Static() *game.Static
	// SetLink applies network conditions to the client's own socket.
	SetLink(cfg netsim.Config) error
	Close() error
}

// Update steps the offline world with in; it never fails.
func (o *Offline) Update(_ time.Time, in game.Input, _ Toggles) error {
	o.Step(in)
	return nil
}

// View shows the offline world as it is; there is no ghost and no network.
func (o *Offline) View(time.Time, Toggles) View {
	return View{
		Tick: o.Tick(), Entities: o.ents, Own: OfflinePlayerID,
		Status: "offline: rules run locally, no network",
	}
}

// SetLink returns ErrNoLink: offline mode has no socket.
func (o *Offline) SetLink(netsim.Config) error { return ErrNoLink }

// Close does nothing.
func (o *Offline) Close() error { return nil }
