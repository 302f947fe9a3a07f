package netcode

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// packetCipher seals and opens connected packets in secure mode with
// ChaCha20-Poly1305: one key per direction, the connection id and the
// 64-bit connection sequence as nonce, and the packet header as associated
// data, so a changed type, connection id or sequence fails to authenticate
// like a changed body. Within a connection the sequence only grows; a new
// connection with the same token (a reconnect) has a new random connection
// id, so no nonce repeats under a token's keys. A nil *packetCipher means
// insecure mode: packets pass in the clear. Not safe for concurrent use.
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
	binary.BigEndian.PutUint32(c.sendNonce[:4], h.ConnID)
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
	binary.BigEndian.PutUint32(c.recvNonce[:4], h.ConnID)
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
// sequences were accepted. Check before and accept only after the packet was
// fully validated (authenticated in secure mode, decoded by the endpoint in
// both), so that a forged or garbage packet cannot move the window.
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

// within reports whether seq is at most replayWindowSize ahead of the newest
// accepted sequence (always true before the first).
func (w *replayWindow) within(seq uint64) bool {
	return !w.started || seq <= w.newest || seq-w.newest <= replayWindowSize
}

// echo returns what a disconnect packet echoes: the newest accepted
// sequence, or nonce (the client nonce of the handshake) before the first.
func (w *replayWindow) echo(nonce uint64) uint64 {
	if !w.started {
		return nonce
	}
	return w.newest
}

// disconnectEchoWindow is how far behind the newest sequence a side sent the
// echo of a plain-mode disconnect may be: the peer's view lags by the
// packets in flight and lost, never by a thousand.
const disconnectEchoWindow = 1024

// echoProves reports whether echo, carried by a plain-mode disconnect, is
// something only a peer that sees the connection's traffic knows: a
// connection sequence this side sent recently (first is the sequence
// before its first packet, last the newest it sent), or, from a peer that
// has received no connected packet yet, the handshake's client nonce, which
// only the handshake packets carried.
func echoProves(echo, nonce, first, last uint64) bool {
	if echo == nonce {
		return true
	}
	return last != first && echo > first && echo <= last && last-echo < disconnectEchoWindow
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
// in order of cost: header, connection id, replay window, then the AEAD. It
// changes nothing: the caller accepts the sequence in the window once the
// body has been decoded too, so that neither a forged copy nor garbage with
// a far-ahead sequence moves the window (and drops the real packets as
// replays).
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
	return h, body, dropNone
}

// hsMAC computes HMAC-SHA256 (RFC 2104) under a key that changes from one
// handshake to the next without allocating (crypto/hmac takes its key once,
// at construction, and allocates then). Not safe for concurrent use.
type hsMAC struct {
	h          hash.Hash
	ipad, opad [sha256.BlockSize]byte
	inner, out [sha256.Size]byte
}

func newHSMAC() *hsMAC { return &hsMAC{h: sha256.New()} }

// setKey keys the MAC with key (shorter than the hash's block, as every key
// here is).
func (m *hsMAC) setKey(key []byte) {
	for i := range m.ipad {
		m.ipad[i], m.opad[i] = 0x36, 0x5c
	}
	for i, k := range key {
		m.ipad[i] ^= k
		m.opad[i] ^= k
	}
}

// sum returns the MAC of msg, valid until the next call.
func (m *hsMAC) sum(msg []byte) []byte {
	m.h.Reset()
	m.h.Write(m.ipad[:])
	m.h.Write(msg)
	in := m.h.Sum(m.inner[:0])
	m.h.Reset()
	m.h.Write(m.opad[:])
	m.h.Write(in)
	return m.h.Sum(m.out[:0])
}

// handshakeKeys authenticate the handshake packets of secure mode, so that
// nobody without the token's keys can forge them: the server's challenge and
// denial carry a tag under a key derived from the token's server-to-client
// key, and the client's response proves, under one derived from the
// client-to-server key, that it holds the token's keys and saw the
// challenge. A request replayed by someone who saw it on the wire carries
// the sealed token but not its keys: its challenge cannot be answered.
// Not safe for concurrent use.
type handshakeKeys struct {
	mac      *hsMAC
	c2s, s2c [sha256.Size]byte // derived: HMAC(packet key, label)
	msg      [1 + 1 + 8 + cookieSize]byte
}

func newHandshakeKeys() *handshakeKeys { return &handshakeKeys{mac: newHSMAC()} }

// derive keys k from a token's packet keys.
func (k *handshakeKeys) derive(c2sKey, s2cKey *[KeySize]byte) {
	k.mac.setKey(c2sKey[:])
	copy(k.c2s[:], k.mac.sum(append(k.msg[:0], "tickwire handshake c2s"...)))
	k.mac.setKey(s2cKey[:])
	copy(k.s2c[:], k.mac.sum(append(k.msg[:0], "tickwire handshake s2c"...)))
}

// tag returns the MAC of a handshake packet of type t for clientNonce with
// body under the c2s (client's response) or s2c (server's packets) key.
func (k *handshakeKeys) tag(c2s bool, t connPacketType, clientNonce uint64, body []byte) (tag [hsTagSize]byte) {
	key := &k.s2c
	if c2s {
		key = &k.c2s
	}
	k.mac.setKey(key[:])
	b := append(k.msg[:0], byte(t), wireVersion)
	b = binary.BigEndian.AppendUint64(b, clientNonce)
	b = append(b, body...)
	copy(tag[:], k.mac.sum(b))
	return tag
}

// challengeTag is the tag of a challenge carrying c.
func (k *handshakeKeys) challengeTag(clientNonce uint64, c cookie) [hsTagSize]byte {
	var body [cookieSize]byte
	return k.tag(false, ptChallenge, clientNonce, appendCookie(body[:0], c))
}

// deniedTag is the tag of a denial with reason r.
func (k *handshakeKeys) deniedTag(clientNonce uint64, r DenyReason) [hsTagSize]byte {
	return k.tag(false, ptDenied, clientNonce, []byte{byte(r)})
}

// proof is what a secure response carries in place of the cookie's MAC:
// the MAC, under the c2s key, of the cookie the challenge carried.
func (k *handshakeKeys) proof(clientNonce uint64, c cookie) [hsTagSize]byte {
	var body [cookieSize]byte
	return k.tag(true, ptResponse, clientNonce, appendCookie(body[:0], c))
}

// tagEqual compares tags in constant time.
func tagEqual(a, b *[hsTagSize]byte) bool { return hmac.Equal(a[:], b[:]) }
