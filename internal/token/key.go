package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// maxKeyID bounds the length of a key id.
const maxKeyID = 64

// Key is an Ed25519 signing key with the id written to the kid header of
// every token it signs.
type Key struct {
	ID      string
	Private ed25519.PrivateKey
}

// GenerateKey returns a fresh random key with the given id.
func GenerateKey(id string) Key {
	// ed25519.GenerateKey cannot fail when reading from crypto/rand.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return Key{ID: id, Private: priv}
}

// Public returns the verification half of k.
func (k Key) Public() ed25519.PublicKey {
	return k.Private.Public().(ed25519.PublicKey)
}

// String returns the key id only, so that logging a Key by mistake does not
// leak its private half.
func (k Key) String() string {
	return "token.Key(" + k.ID + ")"
}

// GoString is String for the %#v verb.
func (k Key) GoString() string {
	return k.String()
}

// ParseKeys parses the configuration form "kid1:seed1,kid2:seed2", where
// each seed is 32 bytes in standard base64. The first key signs; the others
// only verify, which lets keys rotate without logging users out. Ids must be
// unique and made of letters, digits, '.', '_' or '-'.
func ParseKeys(spec string) ([]Key, error) {
	var keys []Key
	seen := make(map[string]bool)
	for item := range strings.SplitSeq(spec, ",") {
		k, err := parseKey(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("parse keys: %w", err)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("parse keys: duplicate kid %q", k.ID)
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// FormatKeys renders keys in the form ParseKeys reads. The output holds
// private keys: write it only to a secret store.
func FormatKeys(keys []Key) string {
	items := make([]string, len(keys))
	for i, k := range keys {
		items[i] = k.ID + ":" + base64.StdEncoding.EncodeToString(k.Private.Seed())
	}
	return strings.Join(items, ",")
}

// parseKey parses one "kid:seed" item.
func parseKey(item string) (Key, error) {
	id, encoded, ok := strings.Cut(item, ":")
	if !ok {
		return Key{}, errors.New("want kid:base64seed")
	}
	if err := checkKeyID(id); err != nil {
		return Key{}, err
	}

	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return Key{}, fmt.Errorf("kid %q: seed: %w", id, err)
	}
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("kid %q: seed is %d bytes, want %d",
			id, len(seed), ed25519.SeedSize)
	}
	return Key{ID: id, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// checkKeyID returns an error unless id is a non-empty, short run of
// letters, digits, '.', '_' or '-'.
func checkKeyID(id string) error {
	if id == "" || len(id) > maxKeyID {
		return fmt.Errorf("kid %q: want 1 to %d characters", id, maxKeyID)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("kid %q: invalid character %q", id, r)
		}
	}
	return nil
}
