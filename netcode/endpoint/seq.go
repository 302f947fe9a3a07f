package endpoint

// seqNum is a 16-bit packet sequence number. Sequence numbers wrap from
// 65535 to 0, so they are compared with Newer and Diff, never with < or >.
// Packet numbers never leave the endpoint: a game sees only MessageIDs.
type seqNum uint16

// Newer reports whether s was sent after than, allowing for wrap-around:
// s is newer when it is ahead of than by at most half the sequence space.
// At exactly half (32768 apart) the numerically larger value is newer, so for
// any two distinct values exactly one is newer than the other.
func (s seqNum) Newer(than seqNum) bool {
	return (s > than && s-than <= 1<<15) || (s < than && than-s > 1<<15)
}

// Diff returns the signed distance s - o in [-32768, 32767], taking the short
// way round the wrap: seqNum(1).Diff(65535) == 2.
func (s seqNum) Diff(o seqNum) int { return int(int16(s - o)) }

// MessageID numbers the messages sent on one channel, from 0, one per Send.
// It is 16 bits and wraps from 65535 to 0, so compare ids with Newer and
// Diff, never with < or >; the endpoint keeps far fewer than 32768 messages
// in flight per channel, so ids in use never become ambiguous.
type MessageID uint16

// Newer reports whether id was assigned after than, allowing for
// wrap-around: id is newer when it is ahead of than by at most 32768
// (at exactly 32768 the numerically larger id is newer), so
// MessageID(0).Newer(65535) is true.
func (id MessageID) Newer(than MessageID) bool { return seqNum(id).Newer(seqNum(than)) }

// Diff returns the signed distance id - o in [-32768, 32767], taking the
// short way round the wrap: MessageID(1).Diff(65535) == 2.
func (id MessageID) Diff(o MessageID) int { return int(int16(id - o)) }
