package main

import (
	"math"

	"github.com/hajimehoshi/ebiten/v2"
)

// batch collects coloured triangles and draws them with one DrawTriangles
// call. Under Xvfb (Mesa's software renderer) every draw call is expensive,
// and vector's helpers make one or more per shape; a frame of the HUD's
// graphs alone is hundreds of line segments, so everything is batched.
type batch struct {
	src *ebiten.Image // 1×1 white source region
	vs  []ebiten.Vertex
	is  []uint16
}

func newBatch() *batch {
	img := ebiten.NewImage(3, 3)
	img.Fill(colorWhite)
	return &batch{
		src: img.SubImage(img.Bounds().Inset(1)).(*ebiten.Image),
		vs:  make([]ebiten.Vertex, 0, 4096),
		is:  make([]uint16, 0, 8192),
	}
}

// room makes sure n more vertices fit the 16-bit indices, flushing first if
// not.
func (b *batch) room(dst *ebiten.Image, n int, aa bool) {
	if len(b.vs)+n > math.MaxUint16 {
		b.flush(dst, aa)
	}
}

func (b *batch) vertex(x, y float32, c [4]uint8) uint16 {
	a := float32(c[3]) / 255
	b.vs = append(b.vs, ebiten.Vertex{
		DstX: x, DstY: y, SrcX: 1.5, SrcY: 1.5,
		ColorR: float32(c[0]) / 255 * a, ColorG: float32(c[1]) / 255 * a, ColorB: float32(c[2]) / 255 * a, ColorA: a,
	})
	return uint16(len(b.vs) - 1)
}

// quad adds the quadrilateral p0 p1 p2 p3 (in order around it).
func (b *batch) quad(x0, y0, x1, y1, x2, y2, x3, y3 float32, c [4]uint8) {
	i := b.vertex(x0, y0, c)
	b.vertex(x1, y1, c)
	b.vertex(x2, y2, c)
	b.vertex(x3, y3, c)
	b.is = append(b.is, i, i+1, i+2, i, i+2, i+3)
}

func (b *batch) rect(x, y, w, h float32, c [4]uint8) {
	b.quad(x, y, x+w, y, x+w, y+h, x, y+h, c)
}

// line adds a segment of the given width.
func (b *batch) line(x0, y0, x1, y1, width float32, c [4]uint8) {
	dx, dy := x1-x0, y1-y0
	l := float32(math.Hypot(float64(dx), float64(dy)))
	if l == 0 {
		return
	}
	nx, ny := -dy/l*width/2, dx/l*width/2
	b.quad(x0+nx, y0+ny, x1+nx, y1+ny, x1-nx, y1-ny, x0-nx, y0-ny, c)
}

func segments(r float32) int {
	return int(min(max(r*1.2, 12), 64))
}

// disc adds a filled circle as a triangle fan.
func (b *batch) disc(cx, cy, r float32, c [4]uint8) {
	n := segments(r)
	center := b.vertex(cx, cy, c)
	for k := 0; k <= n; k++ {
		a := 2 * math.Pi * float64(k) / float64(n)
		b.vertex(cx+r*float32(math.Cos(a)), cy+r*float32(math.Sin(a)), c)
		if k > 0 {
			b.is = append(b.is, center, center+uint16(k), center+uint16(k)+1)
		}
	}
}

// ring adds a circle outline of the given width.
func (b *batch) ring(cx, cy, r, width float32, c [4]uint8) {
	n := segments(r)
	ri, ro := r-width/2, r+width/2
	first := uint16(len(b.vs))
	for k := 0; k <= n; k++ {
		a := 2 * math.Pi * float64(k) / float64(n)
		cs, sn := float32(math.Cos(a)), float32(math.Sin(a))
		b.vertex(cx+ri*cs, cy+ri*sn, c)
		b.vertex(cx+ro*cs, cy+ro*sn, c)
		if k > 0 {
			i := first + uint16(2*k)
			b.is = append(b.is, i-2, i-1, i+1, i-2, i+1, i)
		}
	}
}

// flush draws everything collected onto dst and empties the batch.
func (b *batch) flush(dst *ebiten.Image, aa bool) {
	if len(b.is) > 0 {
		dst.DrawTriangles(b.vs, b.is, b.src, &ebiten.DrawTrianglesOptions{AntiAlias: aa})
	}
	b.vs, b.is = b.vs[:0], b.is[:0]
}
