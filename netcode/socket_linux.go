//go:build linux

package netcode

import (
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgReader reads a batch of datagrams with one recvmmsg(2) straight into
// the receiver's buffers, and decodes the source addresses into
// netip.AddrPort without allocating. (x/net's ReadBatch does the same
// system call but allocates a *net.UDPAddr and its IP for every datagram,
// which would make the receive path allocate per packet.) It is used only
// by the reader goroutine.
type mmsgReader struct {
	rc    syscall.RawConn
	hdrs  [socketBatchSize]unix.Mmsghdr
	iovs  [socketBatchSize]unix.Iovec
	names [socketBatchSize]unix.RawSockaddrInet6
	n     int // datagrams wanted by the current read
	got   int
	errno syscall.Errno
	recv  func(fd uintptr) bool // r.recvmmsg, bound once so that read does not allocate
	// The state of readLoop, kept here so that the callback it hands the
	// runtime is bound once (loop) and allocates nothing.
	loopDS    []*datagram
	loopGot   func(n int) []*datagram
	loopUntil bool // end the loop (nil error) once a batch drained the socket
	loop      func(fd uintptr) bool
	now       func(fd uintptr) // r.recvNow, bound once
	// calls and empty count the system calls made and those that found
	// nothing (EAGAIN); read by tests.
	calls, empty atomic.Uint64
}

func newBatchReader(u *net.UDPConn) batchReader {
	rc, err := u.SyscallConn()
	if err != nil {
		return nil
	}
	r := &mmsgReader{rc: rc}
	r.recv = r.recvmmsg
	r.loop = r.loopOnce
	r.now = r.recvNow
	return r
}

// sysRecv makes one recvmmsg(2) into the prepared headers (retrying on
// EINTR) and counts it: n datagrams, or the errno (EAGAIN: none waiting).
func (r *mmsgReader) sysRecv(fd uintptr, flags int) (int, syscall.Errno) {
	for {
		r.calls.Add(1)
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(r.n), uintptr(flags), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e == unix.EAGAIN {
			r.empty.Add(1)
		}
		return int(n), e
	}
}

func (r *mmsgReader) recvmmsg(fd uintptr) bool {
	n, e := r.sysRecv(fd, 0)
	switch e {
	case unix.EAGAIN:
		return false // nothing to read: the runtime poller waits, then calls again
	case 0:
		r.got, r.errno = n, 0
	default:
		r.got, r.errno = 0, e
	}
	return true
}

func (r *mmsgReader) read(ds []*datagram) (int, error) {
	r.prepare(ds)
	if err := r.rc.Read(r.recv); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, r.errno
	}
	return r.collect(ds), nil
}

// readWait reads what the socket holds, waiting for at least one
// datagram or the socket's read deadline (inline reading).
func (r *mmsgReader) readWait(ds []*datagram) (int, error) { return r.read(ds) }

// readNow reads what the socket holds without waiting: 0 when it is empty
// (inline reading). It ignores the socket's read deadline.
func (r *mmsgReader) readNow(ds []*datagram) (int, error) {
	r.prepare(ds)
	r.got, r.errno = 0, 0
	if err := r.rc.Control(r.now); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, r.errno
	}
	return r.collect(ds), nil
}

func (r *mmsgReader) recvNow(fd uintptr) {
	n, e := r.sysRecv(fd, unix.MSG_DONTWAIT)
	switch e {
	case unix.EAGAIN:
	case 0:
		r.got = n
	default:
		r.errno = e
	}
}

// prepare points the message headers at the buffers of ds (at most a
// batch of them).
func (r *mmsgReader) prepare(ds []*datagram) {
	n := min(len(ds), socketBatchSize)
	for i := 0; i < n; i++ {
		r.iovs[i].Base = &ds[i].buf[:1][0]
		r.iovs[i].SetLen(maxDatagramSize)
		r.hdrs[i] = unix.Mmsghdr{}
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Namelen = unix.SizeofSockaddrInet6
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
	}
	r.n = n
}

// collect moves the r.got datagrams just read to the front of ds, with
// their lengths and sources, dropping any whose source is not UDP, and
// returns how many there are.
func (r *mmsgReader) collect(ds []*datagram) int {
	k := 0
	for i := 0; i < r.got; i++ {
		from, ok := sockaddrAddrPort(&r.names[i])
		if !ok {
			continue
		}
		if k != i {
			ds[k], ds[i] = ds[i], ds[k]
		}
		ds[k].n = int(r.hdrs[i].Len)
		ds[k].from = from
		k++
	}
	return k
}

// readLoop reads batch after batch into the buffers got hands it, from
// one registration with the runtime's poller: after a batch that did not
// fill its buffers, the socket was empty, so it waits for the poller
// instead of making a system call that can only fail with EAGAIN (one per
// wake-up, about a third of a loopback round trip's time on a VM). That
// is safe only within one RawConn.Read: each call clears the readiness an
// arrival since the last one recorded, while within one, the
// edge-triggered poller records every arrival after the batch and the
// wait returns at once. It returns the read error that ended it, or nil
// when untilDrained and a batch left the socket empty.
func (r *mmsgReader) readLoop(ds []*datagram, got func(n int) []*datagram, untilDrained bool) error {
	r.loopDS, r.loopGot, r.loopUntil, r.errno = ds, got, untilDrained, 0
	err := r.rc.Read(r.loop)
	r.loopDS, r.loopGot = nil, nil
	if err != nil {
		return err
	}
	if r.errno != 0 {
		return r.errno
	}
	return nil
}

// loopOnce is readLoop's callback: it reports true only to end the loop,
// on an error or (loopUntil) once the socket is drained.
func (r *mmsgReader) loopOnce(fd uintptr) bool {
	for {
		r.prepare(r.loopDS)
		n, e := r.sysRecv(fd, 0)
		switch e {
		case unix.EAGAIN:
			return false
		case 0:
		default:
			r.errno = e
			return true
		}
		r.got = n
		short := r.got < r.n
		r.loopDS = r.loopGot(r.collect(r.loopDS))
		if short {
			return r.loopUntil // drained: end, or wait for the next arrival
		}
	}
}

func sockaddrAddrPort(sa *unix.RawSockaddrInet6) (netip.AddrPort, bool) {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), uint16(p[0])<<8|uint16(p[1])), true
	case unix.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return normalizeAddr(netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(p[0])<<8|uint16(p[1]))), true
	}
	return netip.AddrPort{}, false
}

// setDontFragment makes the kernel refuse to fragment u's datagrams (and
// report EMSGSIZE for one over the path MTU it knows), so that a path MTU
// probe that arrives proves the path carries it whole. Both the IPv4 and
// the IPv6 options are set, for dual-stack sockets; it reports an error
// only when neither applies.
func setDontFragment(u *net.UDPConn) error {
	rc, err := u.SyscallConn()
	if err != nil {
		return err
	}
	var err4, err6 error
	if cerr := rc.Control(func(fd uintptr) {
		err4 = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
		err6 = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG, 1)
		if err6 == nil {
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DO)
		}
	}); cerr != nil {
		return cerr
	}
	if err4 != nil && err6 != nil {
		return err4
	}
	return nil
}

// dontFragment reports whether u refuses IPv4 fragmentation, for tests.
func dontFragment(u *net.UDPConn) (bool, error) {
	rc, err := u.SyscallConn()
	if err != nil {
		return false, err
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER)
	}); err != nil {
		return false, err
	}
	return v == unix.IP_PMTUDISC_DO, gerr
}
