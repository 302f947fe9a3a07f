package netcode

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// packetCipher seals and opens connected packets in secure mode with
// ChaCha20-Poly1305: one key per direction, the 64-bit connection sequence
// as nonce (never reused: the sequence only grows), and the packet header as
// associated data, so a changed type, connection id or sequence fails to
// authenticate like a changed body. A nil *packetCipher means insecure mode:
// packets pass in the clear. Not safe for concurrent use.
type packetCipher struct {
	send, recv cipher.AEAD
	sendNonce  [chacha20poly1305.NonceSize]byte
	recvNonce  [chacha20poly1305.NonceSize]byte
}

func newPacketCipher(sendKey, recvKey [KeySize]byte) (*packetCipher, error) {
	s, err := chacha20poly1305.New(sendKey[:])
	if err != nil {
		return nil, fmt.Errorf("netcode: packet key: %w", err)
	}
	r, err := chacha20poly1305.New(recvKey[:])
	if err != nil {
		return nil, fmt.Errorf("netcode: packet key: %w", err)
	}
	return &packetCipher{send: s, recv: r}, nil
}

// appendConnPacket appends header h and body, sealed when c is not nil.
func (c *packetCipher) appendConnPacket(b []byte, h connHeader, body []byte) []byte {
	start := len(b)
	b = h.append(b)
	if c == nil {
		return append(b, body...)
	}
	binary.BigEndian.PutUint64(c.sendNonce[4:], h.Seq)
	return c.send.Seal(b, c.sendNonce[:], body, b[start:start+connHeaderSize])
}

// openConnPacket authenticates a connected packet whose header was decoded
// as h and returns its body (decrypted in place when c is not nil).
func (c *packetCipher) openConnPacket(pkt []byte, h connHeader) ([]byte, error) {
	if c == nil {
		return pkt[connHeaderSize:], nil
	}
	if len(pkt) < connHeaderSize+aeadTagSize {
		return nil, errSealedShort
	}
	binary.BigEndian.PutUint64(c.recvNonce[4:], h.Seq)
	body := pkt[connHeaderSize:]
	out, err := c.recv.Open(body[:0], c.recvNonce[:], body, pkt[:connHeaderSize])
	if err != nil {
		return nil, errAuth
	}
	return out, nil
}

// replayWindowSize is how far behind the newest accepted sequence a packet
// may arrive and still be accepted (once).
const replayWindowSize = 256

// replayWindow remembers which of the last replayWindowSize connection
// sequences were accepted. Check before and accept after authentication, so
// a forged packet cannot move the window.
type replayWindow struct {
	newest  uint64
	started bool
	bits    [replayWindowSize / 64]uint64
}

// check reports whether seq is new (not seen and not too old).
func (w *replayWindow) check(seq uint64) (ok, tooOld bool) {
	if !w.started || seq > w.newest {
		return true, false
	}
	if w.newest-seq >= replayWindowSize {
		return false, true
	}
	i := seq % replayWindowSize
	return w.bits[i/64]&(1<<(i%64)) == 0, false
}

// accept records seq as seen; call only after check returned ok.
func (w *replayWindow) accept(seq uint64) {
	switch {
	case !w.started:
		w.started = true
		w.newest = seq
		w.bits = [replayWindowSize / 64]uint64{}
	case seq > w.newest:
		if seq-w.newest >= replayWindowSize {
			w.bits = [replayWindowSize / 64]uint64{}
		} else {
			for s := w.newest + 1; s < seq; s++ {
				i := s % replayWindowSize
				w.bits[i/64] &^= 1 << (i % 64)
			}
		}
		w.newest = seq
	}
	i := seq % replayWindowSize
	w.bits[i/64] |= 1 << (i % 64)
}

// connDrop says why a packet of an established connection was dropped before
// its endpoint saw it; dropNone means it was opened.
type connDrop uint8

const (
	dropNone connDrop = iota
	dropMalformed
	dropWrongConn
	dropReplayed
	dropAuth
)

// openConnected checks a packet that arrived for an established connection,
// in order of cost: header, connection id, replay window, then the AEAD. Only
// a packet that opens marks its sequence as seen, so a forged copy cannot burn
// the sequence of the real one.
func openConnected(b []byte, connID uint32, w *replayWindow, c *packetCipher) (connHeader, []byte, connDrop) {
	h, _, err := decodeConnHeader(b)
	if err != nil {
		return h, nil, dropMalformed
	}
	if h.ConnID != connID {
		return h, nil, dropWrongConn
	}
	if ok, _ := w.check(h.Seq); !ok {
		return h, nil, dropReplayed
	}
	body, err := c.openConnPacket(b, h)
	if err != nil {
		if errors.Is(err, errAuth) {
			return h, nil, dropAuth
		}
		return h, nil, dropMalformed
	}
	w.accept(h.Seq)
	return h, body, dropNone
}
