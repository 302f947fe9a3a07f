//go:build linux

package netcode

import (
	"net"
	"net/netip"
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
}

func newBatchReader(u *net.UDPConn) batchReader {
	rc, err := u.SyscallConn()
	if err != nil {
		return nil
	}
	r := &mmsgReader{rc: rc}
	r.recv = r.recvmmsg
	return r
}

func (r *mmsgReader) recvmmsg(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(r.n), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // nothing to read: the runtime poller waits, then calls again
		case 0:
			r.got, r.errno = int(n), 0
		default:
			r.got, r.errno = 0, e
		}
		return true
	}
}

func (r *mmsgReader) read(ds []*datagram) (int, error) {
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
	if err := r.rc.Read(r.recv); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, r.errno
	}
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
	return k, nil
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
