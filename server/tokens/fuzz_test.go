package tokens

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// FuzzRequestBody: any request body is answered 200 (with a token for a
// well-formed room or none) or 400/404 with a JSON error, never a panic.
func FuzzRequestBody(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"room":"arena-1"}`, `{"room":"arena-9"}`, `{"room":"a b"}`, `{"room":1}`, `[]`, `{"room":"arena-1"}{}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t, func(c *Config) { c.Rate, c.Burst = 1e6, 1e6 })
		fx.now = fx.now.Add(time.Duration(len(body)) * time.Second)
		rec := fx.post("s3cret", "ana", string(body))
		switch rec.Code {
		case http.StatusOK:
			var r Response
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Token == "" {
				t.Fatalf("200 without a token: %q", rec.Body.String())
			}
			if CheckRoom(r.Room) != nil {
				t.Fatalf("a token for the ill-formed room %q", r.Room)
			}
		case http.StatusBadRequest, http.StatusNotFound:
			var e ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%d without a JSON error: %q", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
	})
}
