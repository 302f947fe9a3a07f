package main

import (
	"testing"

	"github.com/tickwire/tickwire/internal/importcheck"
)

// TestNoEbiten: the demo server links neither ebiten nor the demo's view,
// so that it builds with CGO_ENABLED=0 into the static container image
// (deploy/Dockerfile) and runs headless.
func TestNoEbiten(t *testing.T) {
	importcheck.Deps(t, "github.com/tickwire/tickwire/demo-game/server", func(p string) bool {
		return importcheck.Under(p, "github.com/hajimehoshi/ebiten/v2", "github.com/tickwire/tickwire/demo-game/client")
	}, "the server image is a static, cgo-free build")
}
