//go:build js && wasm

package browserconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"
)

// Conn is a WebTransport session's datagrams as a net.PacketConn whose
// one peer is ServerAddr. Safe for concurrent use.
type Conn struct {
	wt     js.Value // the WebTransport
	writer js.Value // its datagrams' writable stream's writer
	reader js.Value // its datagrams' readable stream's reader
	in     chan []byte
	done   chan struct{}
	once   sync.Once

	onRead, onReadErr, onWriteErr, onHide js.Func

	dropped atomic.Uint64
	ended   atomic.Bool
}

// Dial opens a WebTransport session to cfg.URL and returns once it is
// ready, or when ctx is done. It returns ErrUnsupported when the browser
// has no WebTransport. The session closes when the page is hidden for
// good (pagehide), so the server frees the player's slot at once.
func Dial(ctx context.Context, cfg Config) (net.PacketConn, error) {
	ctor := js.Global().Get("WebTransport")
	if ctor.IsUndefined() {
		return nil, ErrUnsupported
	}
	if cfg.URL == "" {
		return nil, errors.New("browserconn: Config.URL is empty: want the server's https:// WebTransport URL")
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 256
	}
	opts := js.Global().Get("Object").New()
	if cfg.CertHash != nil {
		v := js.Global().Get("Uint8Array").New(len(cfg.CertHash))
		js.CopyBytesToJS(v, cfg.CertHash)
		h := js.Global().Get("Object").New()
		h.Set("algorithm", "sha-256")
		h.Set("value", v)
		opts.Set("serverCertificateHashes", js.Global().Get("Array").New(h))
	}
	wt, err := construct(ctor, cfg.URL, opts)
	if err != nil {
		return nil, err
	}
	if _, err := await(ctx, wt.Get("ready")); err != nil {
		wt.Call("close")
		return nil, fmt.Errorf("browserconn: WebTransport to %s: %w", cfg.URL, err)
	}
	c := &Conn{
		wt:     wt,
		writer: wt.Get("datagrams").Get("writable").Call("getWriter"),
		reader: wt.Get("datagrams").Get("readable").Call("getReader"),
		in:     make(chan []byte, cfg.Queue),
		done:   make(chan struct{}),
	}
	c.onRead = js.FuncOf(func(_ js.Value, args []js.Value) any {
		r := args[0]
		if r.Get("done").Bool() {
			c.end()
			return nil
		}
		v := r.Get("value")
		b := make([]byte, v.Get("byteLength").Int())
		js.CopyBytesToGo(b, v)
		select {
		case c.in <- b:
		default:
			c.dropped.Add(1)
		}
		c.reader.Call("read").Call("then", c.onRead, c.onReadErr)
		return nil
	})
	c.onReadErr = js.FuncOf(func(js.Value, []js.Value) any {
		c.end()
		return nil
	})
	// A datagram the browser could not send is lost, like a UDP one.
	c.onWriteErr = js.FuncOf(func(js.Value, []js.Value) any { return nil })
	c.onHide = js.FuncOf(func(js.Value, []js.Value) any {
		_ = c.Close()
		return nil
	})
	js.Global().Call("addEventListener", "pagehide", c.onHide)
	c.reader.Call("read").Call("then", c.onRead, c.onReadErr)
	return c, nil
}

// construct calls new WebTransport(url, opts), turning an exception into
// an error.
func construct(ctor js.Value, url string, opts js.Value) (wt js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("browserconn: new WebTransport(%q): %v", url, r)
		}
	}()
	return ctor.New(url, opts), nil
}

// await waits for promise p, or ctx.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg0(args)}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: errors.New(jsString(arg0(args)))}
		return nil
	})
	release := func() { ok.Release(); fail.Release() }
	p.Call("then", ok, fail)
	select {
	case r := <-ch:
		release()
		return r.v, r.err
	case <-ctx.Done():
		go func() { <-ch; release() }() // the promise settles later
		return js.Undefined(), ctx.Err()
	}
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

func jsString(v js.Value) string {
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		return v.Get("message").String()
	}
	return v.String()
}

// end marks the session over: ReadFrom returns net.ErrClosed from now on.
func (c *Conn) end() {
	if c.ended.CompareAndSwap(false, true) {
		close(c.done)
	}
}

// ReadFrom returns the next datagram from the server, blocking until one
// arrives or the session ends (net.ErrClosed).
func (c *Conn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case b := <-c.in:
		return copy(p, b), net.UDPAddrFromAddrPort(ServerAddr), nil
	case <-c.done:
		return 0, nil, net.ErrClosed
	}
}

// WriteTo sends b to the server as one datagram (addr is ignored: the
// session has one peer). A datagram too large for the path is dropped by
// the browser, like a UDP one.
func (c *Conn) WriteTo(b []byte, _ net.Addr) (int, error) {
	if c.ended.Load() {
		return 0, net.ErrClosed
	}
	v := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(v, b)
	c.writer.Call("write", v).Call("catch", c.onWriteErr)
	return len(b), nil
}

// Dropped counts received datagrams dropped because Config.Queue were
// waiting.
func (c *Conn) Dropped() uint64 { return c.dropped.Load() }

// Close closes the session (the server sees it end at once).
func (c *Conn) Close() error {
	c.once.Do(func() {
		js.Global().Call("removeEventListener", "pagehide", c.onHide)
		c.wt.Call("close")
		c.end()
		// The read loop's callbacks stay: the pending read settles later.
	})
	return nil
}

// LocalAddr returns a placeholder address (the browser does not say).
func (c *Conn) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv6unspecified} }

// SetDeadline and the other deadlines are not supported (netcode uses
// none); they return an error.
func (c *Conn) SetDeadline(time.Time) error { return errNoDeadline }

// SetReadDeadline: see SetDeadline.
func (c *Conn) SetReadDeadline(time.Time) error { return errNoDeadline }

// SetWriteDeadline: see SetDeadline.
func (c *Conn) SetWriteDeadline(time.Time) error { return errNoDeadline }

var errNoDeadline = errors.New("browserconn: deadlines are not supported")
