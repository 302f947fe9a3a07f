// Package client is the client half of a Tickwire game.
package client
