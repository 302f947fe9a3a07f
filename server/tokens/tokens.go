package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/tickwire/tickwire/netcode"
)

// Defaults and limits of Config.
const (
	DefaultTokenTTL   = 30 * time.Second
	MaxTokenTTL       = time.Hour
	DefaultRate       = 1.0 // tokens per second per caller
	DefaultBurst      = 5
	DefaultMaxCallers = 10000
	MaxRoomName       = 64
	// MaxRequestBody is the most bytes of request body read; a longer one
	// is refused (400).
	MaxRequestBody = 4096
)

// ErrInvalidConfig is wrapped by New's errors; the message names the field,
// its value and what is allowed.
var ErrInvalidConfig = errors.New("tokens: invalid config")

// Config configures a Handler.
type Config struct {
	// Key seals the tokens; the game servers share it
	// (netcode.ServerConfig.TokenKey). Required (not all zero).
	Key [netcode.KeySize]byte
	// ProtocolID is the game's netcode protocol id. Required.
	ProtocolID uint64
	// Auth says who the caller is. Required.
	Auth Authenticator
	// Picker chooses the server a token names. Required (NewPicker).
	Picker Picker
	// Rooms, when not nil, refuses a room it returns false for (404
	// unknown_room); nil accepts every well-formed room name.
	Rooms func(room string) bool
	// UserData, when not nil, builds the token's user data (at most
	// netcode.MaxTokenUserData bytes) from the caller and the room; nil
	// means the room name's bytes.
	UserData func(caller Caller, room string) ([]byte, error)
	// TokenTTL is how long a token may be used to connect: 0 means
	// DefaultTokenTTL (30 s), at most MaxTokenTTL.
	TokenTTL time.Duration
	// Rate and Burst are each caller's token bucket: Rate tokens a second
	// (0 means DefaultRate, 1/s), bursts of Burst (0 means DefaultBurst, 5).
	Rate  float64
	Burst int
	// MaxCallers bounds how many callers' buckets are remembered (0 means
	// DefaultMaxCallers); past it the least recently seen caller is
	// forgotten (and starts again with a full bucket).
	MaxCallers int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand supplies the client ids, packet keys and nonces; nil means
	// crypto/rand. Tests pass a seeded source.
	Rand io.Reader
	// Logger receives one line per issued or refused token; nil means none.
	Logger *slog.Logger
}

// Response is the JSON body of a 200 answer.
type Response struct {
	// Token is the connect token, standard base64 with padding.
	Token string `json:"token"`
	// Server is the address the token names (host:port).
	Server string `json:"server"`
	// Room is the room asked for ("" for none).
	Room string `json:"room,omitempty"`
	// ExpiresAt is when the token stops being accepted (RFC 3339).
	ExpiresAt time.Time `json:"expires_at"`
}

// ErrorResponse is the JSON body of every refusal.
type ErrorResponse struct {
	// Error is a stable code: bad_request, unauthorized, unknown_room,
	// method_not_allowed, rate_limited, no_server or internal.
	Error string `json:"error"`
	// Message says what was wrong, for a human.
	Message string `json:"message"`
}

// request is the JSON body of a token request.
type request struct {
	Room string `json:"room"`
}

// Handler serves token requests (see the package documentation). Create it
// with New; it is safe for concurrent use.
type Handler struct {
	cfg     Config
	limiter *limiter
	randMu  sync.Mutex // cfg.Rand need not be safe for concurrent use
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Key == [netcode.KeySize]byte{}:
		return nil, fmt.Errorf("%w: Key is all zero, want the key the servers share (netcode.GenerateKey)", ErrInvalidConfig)
	case cfg.ProtocolID == 0:
		return nil, fmt.Errorf("%w: ProtocolID is 0, want the game's protocol id", ErrInvalidConfig)
	case cfg.Auth == nil:
		return nil, fmt.Errorf("%w: Auth is nil, want an Authenticator (SharedSecret, BearerTokens or the game's own)", ErrInvalidConfig)
	case cfg.Picker == nil:
		return nil, fmt.Errorf("%w: Picker is nil, want one (NewPicker)", ErrInvalidConfig)
	case cfg.TokenTTL < 0 || cfg.TokenTTL > MaxTokenTTL:
		return nil, fmt.Errorf("%w: TokenTTL = %v, want 0 (default %v) up to %v", ErrInvalidConfig, cfg.TokenTTL, DefaultTokenTTL, MaxTokenTTL)
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0):
		return nil, fmt.Errorf("%w: Rate = %v, want a finite number of tokens a second ≥ 0 (0: default %v)", ErrInvalidConfig, cfg.Rate, DefaultRate)
	case cfg.Burst < 0:
		return nil, fmt.Errorf("%w: Burst = %d, want ≥ 0 (0: default %d)", ErrInvalidConfig, cfg.Burst, DefaultBurst)
	case cfg.MaxCallers < 0:
		return nil, fmt.Errorf("%w: MaxCallers = %d, want ≥ 0 (0: default %d)", ErrInvalidConfig, cfg.MaxCallers, DefaultMaxCallers)
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.MaxCallers == 0 {
		cfg.MaxCallers = DefaultMaxCallers
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, limiter: newLimiter(cfg.Rate, cfg.Burst, cfg.MaxCallers)}, nil
}

// ServeHTTP answers one token request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("method %s: want POST", r.Method), "")
		return
	}
	caller, err := h.cfg.Auth.Authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tickwire"`)
		h.refuse(w, r, http.StatusUnauthorized, "unauthorized", err.Error(), "")
		return
	}
	now := h.cfg.Now()
	if ok, wait := h.limiter.allow(caller.ID, now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		h.refuse(w, r, http.StatusTooManyRequests, "rate_limited",
			fmt.Sprintf("caller %q: more than %d requests in a burst or %g a second", caller.ID, h.cfg.Burst, h.cfg.Rate), caller.ID)
		return
	}
	room, err := readRoom(w, r)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, "bad_request", err.Error(), caller.ID)
		return
	}
	if room != "" && h.cfg.Rooms != nil && !h.cfg.Rooms(room) {
		h.refuse(w, r, http.StatusNotFound, "unknown_room", fmt.Sprintf("room %q does not exist", room), caller.ID)
		return
	}
	addr, err := h.cfg.Picker.Pick(room)
	if err != nil {
		h.refuse(w, r, http.StatusServiceUnavailable, "no_server", err.Error(), caller.ID)
		return
	}
	userData := []byte(room)
	if h.cfg.UserData != nil {
		if userData, err = h.cfg.UserData(caller, room); err != nil {
			h.refuse(w, r, http.StatusBadRequest, "bad_request", err.Error(), caller.ID)
			return
		}
	}
	expires := now.Add(h.cfg.TokenTTL)
	tok, err := h.issue(addr, expires, userData)
	if err != nil {
		h.cfg.Logger.Error("token not issued", "caller", caller.ID, "room", room, "err", err)
		h.refuse(w, r, http.StatusInternalServerError, "internal", "the token could not be issued", caller.ID)
		return
	}
	h.cfg.Logger.Info("token issued", "caller", caller.ID, "room", room, "server", addr.String())
	writeJSON(w, http.StatusOK, Response{
		Token: base64.StdEncoding.EncodeToString(tok), Server: addr.String(), Room: room,
		ExpiresAt: time.UnixMilli(expires.UnixMilli()).UTC(), // what the token holds
	})
}

// issue seals a token for one client naming addr.
func (h *Handler) issue(addr netip.AddrPort, expires time.Time, userData []byte) ([]byte, error) {
	h.randMu.Lock()
	defer h.randMu.Unlock()
	rnd := h.cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var id [8]byte
	if _, err := io.ReadFull(rnd, id[:]); err != nil {
		return nil, fmt.Errorf("tokens: client id: %w", err)
	}
	return netcode.IssueConnectToken(h.cfg.Key, netcode.ConnectToken{
		ProtocolID: h.cfg.ProtocolID, ClientID: netcode.ClientID(binary.BigEndian.Uint64(id[:])),
		Expires: expires, ServerAddrs: []netip.AddrPort{addr}, UserData: userData,
	}, rnd)
}

// readRoom decodes the request body: empty (no room) or {"room": "…"}.
func readRoom(w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBody))
	if err != nil {
		return "", fmt.Errorf("request body: %v (at most %d bytes)", err, MaxRequestBody)
	}
	if len(body) == 0 {
		return "", nil
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return "", fmt.Errorf(`request body: %v; want JSON like {"room": "arena-1"}`, err)
	}
	if err := CheckRoom(req.Room); err != nil {
		return "", err
	}
	return req.Room, nil
}

// CheckRoom reports whether room is a well-formed room name: empty (no
// room) or 1..MaxRoomName bytes of ASCII letters, digits, '-', '_' and '.'.
func CheckRoom(room string) error {
	if len(room) > MaxRoomName {
		return fmt.Errorf("room %q: %d bytes, want at most %d", room[:MaxRoomName]+"…", len(room), MaxRoomName)
	}
	for i := range len(room) {
		c := room[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("room %q: byte %d is %q, want letters, digits, '-', '_' or '.'", room, i, c)
		}
	}
	return nil
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, code, msg, caller string) {
	h.cfg.Logger.Info("token refused", "status", status, "error", code, "caller", caller, "remote", r.RemoteAddr, "msg", msg)
	writeJSON(w, status, ErrorResponse{Error: code, Message: "tokens: " + msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
