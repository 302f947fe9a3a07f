//go:build !js

package main

import "time"

// noReport: outside the browser there is no page to report to.
type noReport struct{}

func newReporter() reporter { return noReport{} }

func (noReport) report(*app, time.Time) {}

// onlinePanelNote: a native client's panel conditions its own socket.
func onlinePanelNote() string { return "" }
