// Package clientui holds everything the demo client's screen needs that does
// not need a window: the HUD's time series and their summaries, the mapping
// from a series to the points of a line graph, the screen layout (where the
// arena, the HUD and the network panel go and how world coordinates map to
// pixels), the key-binding tables, the feature toggles and the state of the
// live network panel.
//
// It imports no graphics package, so it is tested with plain unit tests; the
// client's main package only turns these values into ebiten draw calls.
//
// # Zero value and concurrency
//
// Series, HUD and NetPanel must be created with their constructors
// (NewSeries, NewHUD, NewNetPanel); Toggles, Layout and Rect are plain values
// whose zero values are valid. Nothing here is safe for concurrent use: the
// client drives all of it from ebiten's update and draw calls, which run on
// one goroutine.
package clientui
