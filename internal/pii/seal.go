package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// Keyring seals and opens field values. It holds one current key, used for
// every new value, and any number of older keys that are only used to open
// values sealed before a rotation. A Keyring is immutable and safe for
// concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewKeyring builds a keyring whose current key is current. It returns an
// error wrapping ErrInvalidKey when a key id is malformed, a secret is not
// KeySize bytes, or two keys share an id. The secrets are not retained
// beyond the derived ciphers.
func NewKeyring(current Key, older ...Key) (*Keyring, error) {
	keys := append([]Key{current}, older...)
	if err := validateKeys(keys); err != nil {
		return nil, err
	}
	ring := &Keyring{
		current: current.ID,
		aeads:   make(map[string]cipher.AEAD, len(keys)),
	}
	for _, key := range keys {
		aead, err := newAEAD(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key.ID, err)
		}
		ring.aeads[key.ID] = aead
	}
	return ring, nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, fmt.Errorf("new cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new gcm: %w", err)
	}
	return aead, nil
}

// String describes the keyring without revealing key material.
func (k *Keyring) String() string {
	return fmt.Sprintf("pii.Keyring{current: %q, keys: %d}", k.current, len(k.aeads))
}

// CurrentID returns the id of the key that Seal uses.
func (k *Keyring) CurrentID() string { return k.current }

// Seal encrypts plaintext under the current key with a fresh random nonce.
// The result is laid out as: version byte 0x01, one byte id length, the
// key id, a 12-byte nonce, then ciphertext and GCM tag. The header and aad
// are both authenticated, so the value only opens with the same aad: pass
// the value's place, e.g. "merchant_customers.email|<customer id>", so a
// sealed value copied to another row or column fails to open.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	header := sealHeader(k.current)
	out := make([]byte, len(header), len(header)+nonceSize+len(plaintext)+tagSize)
	copy(out, header)

	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	out = append(out, nonce...)
	ad := additionalData(header, aad)
	return k.aeads[k.current].Seal(out, nonce, plaintext, ad), nil
}

// Open decrypts a value produced by Seal under any key in the keyring. It
// returns errors wrapping ErrMalformed when the value cannot be parsed,
// ErrUnknownKey when its key id is not in the keyring, and ErrDecrypt when
// authentication fails (tampering, wrong aad).
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	parts, err := parseSealed(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[parts.id]
	if !ok {
		return nil, fmt.Errorf("key %q: %w", parts.id, ErrUnknownKey)
	}
	ad := additionalData(parts.header, aad)
	plaintext, err := aead.Open(nil, parts.nonce, parts.ciphertext, ad)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", parts.id, ErrDecrypt)
	}
	return plaintext, nil
}

// Reseal re-encrypts a value under the current key when it was sealed
// under an older one, and reports whether it did. A value already under
// the current key is returned unchanged without being decrypted, so Reseal
// does not vouch for its integrity. Errors are those of Open.
func (k *Keyring) Reseal(sealed, aad []byte) ([]byte, bool, error) {
	id, err := KeyID(sealed)
	if err != nil {
		return nil, false, err
	}
	if id == k.current {
		return sealed, false, nil
	}
	plaintext, err := k.Open(sealed, aad)
	if err != nil {
		return nil, false, fmt.Errorf("reseal: %w", err)
	}
	resealed, err := k.Seal(plaintext, aad)
	if err != nil {
		return nil, false, fmt.Errorf("reseal: %w", err)
	}
	return resealed, true, nil
}

// KeyID returns the id of the key a sealed value was sealed under, without
// decrypting it. It returns an error wrapping ErrMalformed when the value
// cannot be parsed.
func KeyID(sealed []byte) (string, error) {
	parts, err := parseSealed(sealed)
	if err != nil {
		return "", err
	}
	return parts.id, nil
}

type sealedParts struct {
	header     []byte
	id         string
	nonce      []byte
	ciphertext []byte
}

func parseSealed(sealed []byte) (sealedParts, error) {
	if len(sealed) < 2 || sealed[0] != formatVersion {
		return sealedParts{}, fmt.Errorf("bad header: %w", ErrMalformed)
	}
	idEnd := 2 + int(sealed[1])
	if len(sealed) < idEnd+nonceSize+tagSize {
		return sealedParts{}, fmt.Errorf("too short: %w", ErrMalformed)
	}
	id := string(sealed[2:idEnd])
	if !validKeyID(id) {
		return sealedParts{}, fmt.Errorf("bad key id: %w", ErrMalformed)
	}
	return sealedParts{
		header:     sealed[:idEnd],
		id:         id,
		nonce:      sealed[idEnd : idEnd+nonceSize],
		ciphertext: sealed[idEnd+nonceSize:],
	}, nil
}

func sealHeader(id string) []byte {
	header := make([]byte, 0, 2+len(id))
	header = append(header, formatVersion, byte(len(id)))
	return append(header, id...)
}

// additionalData binds the header and the caller's context. The header is
// length-prefixed, so the concatenation is unambiguous. It is always a
// fresh slice because GCM forbids additional data overlapping its output.
func additionalData(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	ad = append(ad, header...)
	return append(ad, aad...)
}
