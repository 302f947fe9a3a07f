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

// Conn is a WebTransport session's or a WebRTC data channel's datagrams as
// a net.PacketConn whose one peer is ServerAddr. Safe for concurrent use.
type Conn struct {
	in   chan []byte
	done chan struct{}
	once sync.Once

	send    func(b js.Value) // sends one datagram (a Uint8Array)
	closeJS func()           // closes the session or channel

	funcs   []js.Func // callbacks kept for the session's life
	onHide  js.Func
	dropped atomic.Uint64
	ended   atomic.Bool
}

// Dial opens a route to the server: a WebTransport session to
// cfg.WebTransportURL when the browser has WebTransport, else (or when
// the session fails to open) a WebRTC data channel signalled at
// cfg.WebRTCURL. It returns the route taken, or ErrUnsupported when
// neither is configured and available. The route closes when the page is
// hidden for good (pagehide), so the server frees the player's slot at
// once.
func Dial(ctx context.Context, cfg Config) (net.PacketConn, Transport, error) {
	if cfg.Queue <= 0 {
		cfg.Queue = 256
	}
	var errs []error
	if cfg.WebTransportURL != "" && !js.Global().Get("WebTransport").IsUndefined() {
		c, err := dialWebTransport(ctx, cfg)
		if err == nil {
			return c, WebTransport, nil
		}
		errs = append(errs, err)
	}
	if cfg.WebRTCURL != "" && !js.Global().Get("RTCPeerConnection").IsUndefined() && ctx.Err() == nil {
		c, err := dialWebRTC(ctx, cfg)
		if err == nil {
			return c, WebRTC, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, "", ErrUnsupported
	}
	return nil, "", errors.Join(errs...)
}

func newConn(queue int) *Conn {
	return &Conn{in: make(chan []byte, queue), done: make(chan struct{})}
}

// fn makes a callback that lives as long as the Conn.
func (c *Conn) fn(f func(args []js.Value)) js.Func {
	jf := js.FuncOf(func(_ js.Value, args []js.Value) any {
		f(args)
		return nil
	})
	c.funcs = append(c.funcs, jf)
	return jf
}

// receive queues a datagram from the browser (a Uint8Array or an
// ArrayBuffer).
func (c *Conn) receive(v js.Value) {
	if v.Get("BYTES_PER_ELEMENT").IsUndefined() {
		v = js.Global().Get("Uint8Array").New(v) // an ArrayBuffer
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	select {
	case c.in <- b:
	default:
		c.dropped.Add(1)
	}
}

// watchPage closes the Conn on pagehide.
func (c *Conn) watchPage() {
	c.onHide = js.FuncOf(func(js.Value, []js.Value) any {
		_ = c.Close()
		return nil
	})
	js.Global().Call("addEventListener", "pagehide", c.onHide)
}

func dialWebTransport(ctx context.Context, cfg Config) (*Conn, error) {
	opts := js.Global().Get("Object").New()
	if cfg.CertHash != nil {
		v := js.Global().Get("Uint8Array").New(len(cfg.CertHash))
		js.CopyBytesToJS(v, cfg.CertHash)
		h := js.Global().Get("Object").New()
		h.Set("algorithm", "sha-256")
		h.Set("value", v)
		opts.Set("serverCertificateHashes", js.Global().Get("Array").New(h))
	}
	wt, err := construct(js.Global().Get("WebTransport"), cfg.WebTransportURL, opts)
	if err != nil {
		return nil, err
	}
	if _, err := await(ctx, wt.Get("ready")); err != nil {
		wt.Call("close")
		return nil, fmt.Errorf("browserconn: WebTransport to %s: %w", cfg.WebTransportURL, err)
	}
	c := newConn(cfg.Queue)
	writer := wt.Get("datagrams").Get("writable").Call("getWriter")
	reader := wt.Get("datagrams").Get("readable").Call("getReader")
	// A datagram the browser could not send is lost, like a UDP one.
	ignore := c.fn(func([]js.Value) {})
	c.send = func(b js.Value) { writer.Call("write", b).Call("catch", ignore) }
	c.closeJS = func() { wt.Call("close") }
	var onRead, onEnd js.Func
	onEnd = c.fn(func([]js.Value) { c.end() })
	onRead = c.fn(func(args []js.Value) {
		r := args[0]
		if r.Get("done").Bool() {
			c.end()
			return
		}
		c.receive(r.Get("value"))
		reader.Call("read").Call("then", onRead, onEnd)
	})
	reader.Call("read").Call("then", onRead, onEnd)
	wt.Get("closed").Call("then", onEnd, onEnd)
	c.watchPage()
	return c, nil
}

func dialWebRTC(ctx context.Context, cfg Config) (*Conn, error) {
	pc, err := construct(js.Global().Get("RTCPeerConnection"), "", js.Global().Get("Object").New())
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Conn, error) {
		pc.Call("close")
		return nil, fmt.Errorf("browserconn: WebRTC via %s: %w", cfg.WebRTCURL, err)
	}
	init := js.Global().Get("Object").New()
	init.Set("ordered", false)
	init.Set("maxRetransmits", 0)
	dc := pc.Call("createDataChannel", "tickwire", init)
	dc.Set("binaryType", "arraybuffer")
	c := newConn(cfg.Queue)
	opened := make(chan struct{})
	var openOnce sync.Once
	dc.Set("onopen", c.fn(func([]js.Value) { openOnce.Do(func() { close(opened) }) }))
	dc.Set("onmessage", c.fn(func(args []js.Value) { c.receive(args[0].Get("data")) }))
	dc.Set("onclose", c.fn(func([]js.Value) { c.end() }))
	pc.Set("onconnectionstatechange", c.fn(func([]js.Value) {
		if s := pc.Get("connectionState").String(); s == "failed" || s == "closed" {
			c.end()
		}
	}))
	gathered := make(chan struct{})
	var gatherOnce sync.Once
	pc.Set("onicegatheringstatechange", c.fn(func([]js.Value) {
		if pc.Get("iceGatheringState").String() == "complete" {
			gatherOnce.Do(func() { close(gathered) })
		}
	}))
	offer, err := await(ctx, pc.Call("createOffer"))
	if err != nil {
		return fail(err)
	}
	if _, err := await(ctx, pc.Call("setLocalDescription", offer)); err != nil {
		return fail(err)
	}
	// No trickling: the offer carries every candidate, gathered within a
	// second on any network (no STUN servers are asked).
	select {
	case <-gathered:
	case <-time.After(time.Second):
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	req := js.Global().Get("Object").New()
	req.Set("method", "POST")
	req.Set("body", pc.Get("localDescription").Get("sdp"))
	rsp, err := await(ctx, js.Global().Call("fetch", cfg.WebRTCURL, req))
	if err != nil {
		return fail(err)
	}
	body, err := await(ctx, rsp.Call("text"))
	if err != nil {
		return fail(err)
	}
	if !rsp.Get("ok").Bool() {
		return fail(fmt.Errorf("signalling answered %d: %s", rsp.Get("status").Int(), body.String()))
	}
	answer := js.Global().Get("Object").New()
	answer.Set("type", "answer")
	answer.Set("sdp", body)
	if _, err := await(ctx, pc.Call("setRemoteDescription", answer)); err != nil {
		return fail(err)
	}
	select {
	case <-opened:
	case <-c.done:
		return fail(errors.New("the data channel closed before it opened"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	c.send = func(b js.Value) {
		if dc.Get("readyState").String() == "open" {
			dc.Call("send", b)
		}
	}
	c.closeJS = func() { dc.Call("close"); pc.Call("close") }
	c.watchPage()
	return c, nil
}

// construct calls new ctor(url, opts) (new ctor(opts) without a url),
// turning an exception into an error.
func construct(ctor js.Value, url string, opts js.Value) (v js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("browserconn: new %s(%q): %v", ctor.Get("name").String(), url, r)
		}
	}()
	if url == "" {
		return ctor.New(opts), nil
	}
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

// end marks the route over: ReadFrom returns net.ErrClosed from now on.
func (c *Conn) end() {
	if c.ended.CompareAndSwap(false, true) {
		close(c.done)
	}
}

// ReadFrom returns the next datagram from the server, blocking until one
// arrives or the route ends (net.ErrClosed).
func (c *Conn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case b := <-c.in:
		return copy(p, b), net.UDPAddrFromAddrPort(ServerAddr), nil
	case <-c.done:
		return 0, nil, net.ErrClosed
	}
}

// WriteTo sends b to the server as one datagram (addr is ignored: the
// route has one peer). A datagram the browser cannot send is dropped,
// like a UDP one.
func (c *Conn) WriteTo(b []byte, _ net.Addr) (int, error) {
	if c.ended.Load() {
		return 0, net.ErrClosed
	}
	v := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(v, b)
	c.send(v)
	return len(b), nil
}

// Dropped counts received datagrams dropped because Config.Queue were
// waiting.
func (c *Conn) Dropped() uint64 { return c.dropped.Load() }

// Close closes the route (the server sees it end at once).
func (c *Conn) Close() error {
	c.once.Do(func() {
		js.Global().Call("removeEventListener", "pagehide", c.onHide)
		c.closeJS()
		c.end()
		// The callbacks stay: a pending read settles later.
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
