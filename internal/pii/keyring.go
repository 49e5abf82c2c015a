package pii

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of a sealing key (AES-256).
const KeySize = 32

const (
	formatVersion = 0x01
	maxKeyIDLen   = 16
	nonceSize     = 12
	tagSize       = 16
)

// Sentinel errors returned (wrapped) by Open, KeyID, Reseal, NewKeyring and
// ParseKeys. Test for them with errors.Is.
var (
	// ErrUnknownKey means the sealed value names a key id the keyring
	// does not hold.
	ErrUnknownKey = errors.New("pii: unknown key id")
	// ErrMalformed means the sealed value is not in the expected format.
	ErrMalformed = errors.New("pii: malformed sealed value")
	// ErrDecrypt means authentication failed: the value was tampered
	// with, or it was sealed for another context (AAD) or another key.
	ErrDecrypt = errors.New("pii: decryption failed")
	// ErrInvalidKey means a key has a bad id, a bad length, or a
	// duplicate id.
	ErrInvalidKey = errors.New("pii: invalid key")
)

// Key is one AES-256 sealing key. ID is stored in every value sealed under
// it (1 to 16 characters from [a-z0-9_-]); Secret must be KeySize bytes.
type Key struct {
	ID     string
	Secret []byte
}

// String describes the key without revealing its secret.
func (k Key) String() string {
	return fmt.Sprintf("pii.Key{ID: %q, Secret: [redacted]}", k.ID)
}

// GoString describes the key for %#v without revealing its secret.
func (k Key) GoString() string { return k.String() }

// GenerateKey returns a key with the given id and a fresh random secret.
// It is meant for development and tests; the id is validated later by
// NewKeyring.
func GenerateKey(id string) Key {
	secret := make([]byte, KeySize)
	// crypto/rand.Read never returns an error; it aborts the program if
	// the system random source fails.
	_, _ = rand.Read(secret)
	return Key{ID: id, Secret: secret}
}

// ParseKeys parses a key specification of the form
// "id1:base64key,id2:base64key" (standard base64 with padding). The first
// key is the current one. Entries are numbered from 1 in errors, which
// wrap ErrInvalidKey and never include key material.
func ParseKeys(spec string) ([]Key, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("empty key spec: %w", ErrInvalidKey)
	}
	entries := strings.Split(spec, ",")
	keys := make([]Key, 0, len(entries))
	for i, entry := range entries {
		key, err := parseKey(strings.TrimSpace(entry))
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		keys = append(keys, key)
	}
	if err := validateKeys(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

func parseKey(entry string) (Key, error) {
	id, encoded, ok := strings.Cut(entry, ":")
	if !ok {
		return Key{}, fmt.Errorf("want id:base64key: %w", ErrInvalidKey)
	}
	// The decoder's own error is dropped on purpose: it is replaced by a
	// message that cannot echo any part of the input.
	secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return Key{}, fmt.Errorf("secret is not valid base64: %w", ErrInvalidKey)
	}
	return Key{ID: strings.TrimSpace(id), Secret: secret}, nil
}

// validateKeys checks every key and rejects duplicate ids. Errors name
// the offending id only once it has passed the id syntax check.
func validateKeys(keys []Key) error {
	seen := make(map[string]bool, len(keys))
	for i, key := range keys {
		if !validKeyID(key.ID) {
			return fmt.Errorf("key %d: id must be 1-%d chars of [a-z0-9_-]: %w",
				i+1, maxKeyIDLen, ErrInvalidKey)
		}
		if len(key.Secret) != KeySize {
			return fmt.Errorf("key %q: secret must be %d bytes: %w",
				key.ID, KeySize, ErrInvalidKey)
		}
		if seen[key.ID] {
			return fmt.Errorf("key %q: duplicate id: %w", key.ID, ErrInvalidKey)
		}
		seen[key.ID] = true
	}
	return nil
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
