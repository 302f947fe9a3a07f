package agones

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadWatch: any bytes from the sidecar's watch stream are decoded or
// skipped without a panic, and every update passed on decoded from a line.
func FuzzReadWatch(f *testing.F) {
	f.Add([]byte(`{"result":` + gsReady + "}\n"))
	f.Add([]byte(`{"result":` + gsReady + "}\n{\"error\":{\"code\":14}}\n"))
	f.Add([]byte("garbage\n\n{\"result\":{}}"))
	f.Add([]byte(`{"result":null,"error":null}`))
	c, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		got, err := c.readWatch(bytes.NewReader(b), func(GameServer) { n++ })
		if err == nil {
			t.Fatal("a stream always ends with an error (io.EOF at its end)")
		}
		if got != (n > 0) {
			t.Fatalf("got %v with %d updates", got, n)
		}
		if lines := strings.Count(string(b), "\n") + 1; n > lines {
			t.Fatalf("%d updates from %d lines", n, lines)
		}
	})
}
