// Package cursor makes opaque, signed pagination cursors. A client can
// carry a cursor back but cannot read, forge or move it to another list:
// each cursor is bound to the list (scope) it was issued for.
package cursor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// ErrInvalid is returned for any cursor that does not verify.
var ErrInvalid = errors.New("invalid cursor")

// Position is a keyset position: the sort time and id of the last row seen.
type Position struct {
	Time time.Time `json:"t"`
	ID   uuid.UUID `json:"i"`
}

// Signer signs and verifies cursors with one key.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer; key must be at least 32 bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("cursor key must be at least 32 bytes")
	}
	return &Signer{key: key}, nil
}

const macLen = 16

// Encode returns the cursor for p within scope (for example
// "items:<merchant id>").
func (s *Signer) Encode(scope string, p Position) string {
	body, _ := json.Marshal(p)
	mac := s.mac(scope, body)
	return base64.RawURLEncoding.EncodeToString(append(body, mac...))
}

// Decode verifies a cursor issued for scope and returns its position.
func (s *Signer) Decode(scope, c string) (Position, error) {
	var p Position
	if len(c) > 512 {
		return p, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) <= macLen {
		return p, ErrInvalid
	}
	body, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(mac, s.mac(scope, body)) {
		return p, ErrInvalid
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return p, ErrInvalid
	}
	return p, nil
}

func (s *Signer) mac(scope string, body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strconv.Itoa(len(scope))))
	m.Write([]byte{0})
	m.Write([]byte(scope))
	m.Write(body)
	return m.Sum(nil)[:macLen]
}
