package tokens

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkIssue measures one token request through the handler: shared
// secret, rate limit, JSON body, picker, sealing, JSON answer.
func BenchmarkIssue(b *testing.B) {
	f := newFixture(b, func(c *Config) { c.Rate, c.Burst, c.Rand = 1e9, 1e9, nil })
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(`{"room":"arena-1"}`))
		r.Header.Set("Authorization", "Bearer s3cret")
		r.Header.Set("X-Player-ID", "ana")
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
