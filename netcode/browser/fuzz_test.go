package browser

import (
	"bytes"
	"testing"
	"testing/synctest"
)

// FuzzSessionDatagram: whatever a session sends, the Conn delivers it
// unchanged from the session's address, or drops and counts it (empty,
// oversized); it never panics.
func FuzzSessionDatagram(f *testing.F) {
	f.Add([]byte("hello"))
	f.Add([]byte{})
	f.Add(make([]byte, 513))
	f.Add(bytes.Repeat([]byte{0xff}, 1501))
	f.Fuzz(func(t *testing.T, b []byte) {
		synctest.Test(t, func(t *testing.T) {
			c, _ := newTestConn(t, Config{MaxDatagramSize: 512})
			s := newPipeSession()
			a, err := c.AddSession(s, "")
			if err != nil {
				t.Fatal(err)
			}
			s.toServer <- b
			s.toServer <- []byte("next")
			synctest.Wait()
			buf := make([]byte, 2048)
			n, from, err := c.ReadFrom(buf)
			if err != nil || from.String() != a.String() {
				t.Fatalf("ReadFrom = %d, %v, %v; want from %v", n, from, err, a)
			}
			ok := len(b) > 0 && len(b) <= 512
			switch {
			case ok && !bytes.Equal(buf[:n], b):
				t.Fatalf("delivered %x, sent %x", buf[:n], b)
			case !ok && string(buf[:n]) != "next":
				t.Fatalf("a malformed datagram (%d bytes) was delivered", len(b))
			case !ok && c.Stats().DropsMalformed != 1:
				t.Fatalf("DropsMalformed = %d, want 1", c.Stats().DropsMalformed)
			}
		})
	})
}
