package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIss     = "https://rampart.test"
	testAud     = "rampart-api"
	testUser    = "5b0f6d1e-3c2a-4e8b-9f10-2a7c4d6e8b01"
	testSession = "9d3e1f20-7a4b-4c5d-8e6f-1a2b3c4d5e6f"
)

// fixedKey is deterministic so fuzz seeds stay valid across runs.
var fixedKey = Key{ID: "k1", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}

func setup(t testing.TB) *Issuer {
	t.Helper()
	iss, err := NewIssuer(testIss, testAud, 5*time.Minute, []Key{fixedKey})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// validMap returns the claims of a token the server would issue now.
func validMap() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":        testIss,
		"aud":        []string{testAud},
		"sub":        testUser,
		"session_id": testSession,
		"role":       RoleAuthenticated,
		"aal":        AAL1,
		"iat":        now.Unix(),
		"nbf":        now.Unix(),
		"exp":        now.Add(5 * time.Minute).Unix(),
		"jti":        "jti-1",
	}
}

// forge signs claims the way an attacker holding key would.
func forge(t testing.TB, m jwt.SigningMethod, key any, kid any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != nil {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// with returns validMap changed by edit.
func with(edit func(jwt.MapClaims)) jwt.MapClaims {
	m := validMap()
	edit(m)
	return m
}

func wantRejected(t *testing.T, iss *Issuer, tok string) {
	t.Helper()
	c, err := iss.Verify(tok)
	if !errors.Is(err, ErrInvalidToken) || c != nil {
		t.Fatalf("Verify = %v, %v; want nil, ErrInvalidToken", c, err)
	}
}

func TestVerifyAttacks(t *testing.T) {
	t.Parallel()
	iss := setup(t)
	ed := jwt.SigningMethodEdDSA
	priv := fixedKey.Private
	now := time.Now()

	t.Run("control: a forged token with the real key verifies", func(t *testing.T) {
		t.Parallel()
		if _, err := iss.Verify(forge(t, ed, priv, "k1", validMap())); err != nil {
			t.Fatalf("helper produced an invalid token: %v", err)
		}
	})

	t.Run("alg none", func(t *testing.T) {
		t.Parallel()
		tok := forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType,
			"k1", validMap())
		wantRejected(t, iss, tok)
	})

	t.Run("HS256 keyed with the public key bytes", func(t *testing.T) {
		t.Parallel()
		pub := []byte(fixedKey.Public())
		wantRejected(t, iss, forge(t, jwt.SigningMethodHS256, pub, "k1", validMap()))
	})

	t.Run("unknown kid", func(t *testing.T) {
		t.Parallel()
		wantRejected(t, iss, forge(t, ed, priv, "k9", validMap()))
	})

	t.Run("missing kid", func(t *testing.T) {
		t.Parallel()
		wantRejected(t, iss, forge(t, ed, priv, nil, validMap()))
	})

	t.Run("kid of the wrong type", func(t *testing.T) {
		t.Parallel()
		wantRejected(t, iss, forge(t, ed, priv, 1, validMap()))
	})

	t.Run("another key with the same kid", func(t *testing.T) {
		t.Parallel()
		other := GenerateKey("k1")
		wantRejected(t, iss, forge(t, ed, other.Private, "k1", validMap()))
	})

	t.Run("tampered payload", func(t *testing.T) {
		t.Parallel()
		tok, _, err := iss.Issue(Claims{
			RegisteredClaims: jwt.RegisteredClaims{Subject: testUser},
			Role:             RoleAuthenticated, SessionID: testSession, AAL: AAL1,
		})
		if err != nil {
			t.Fatal(err)
		}
		wantRejected(t, iss, escalate(t, tok))
	})

	claimCases := map[string]func(jwt.MapClaims){
		"wrong aud":          func(m jwt.MapClaims) { m["aud"] = "other-api" },
		"missing aud":        func(m jwt.MapClaims) { delete(m, "aud") },
		"wrong iss":          func(m jwt.MapClaims) { m["iss"] = "https://evil.test" },
		"missing iss":        func(m jwt.MapClaims) { delete(m, "iss") },
		"expired":            func(m jwt.MapClaims) { m["exp"] = now.Add(-time.Minute).Unix() },
		"missing exp":        func(m jwt.MapClaims) { delete(m, "exp") },
		"missing iat":        func(m jwt.MapClaims) { delete(m, "iat") },
		"iat in the future":  func(m jwt.MapClaims) { m["iat"] = now.Add(2 * time.Minute).Unix() },
		"nbf in the future":  func(m jwt.MapClaims) { m["nbf"] = now.Add(2 * time.Minute).Unix() },
		"lifetime too long":  func(m jwt.MapClaims) { m["exp"] = now.Add(time.Hour).Unix() },
		"bad role":           func(m jwt.MapClaims) { m["role"] = "service_role" },
		"missing role":       func(m jwt.MapClaims) { delete(m, "role") },
		"bad aal":            func(m jwt.MapClaims) { m["aal"] = "aal3" },
		"sub not a uuid":     func(m jwt.MapClaims) { m["sub"] = "admin" },
		"sub upper case":     func(m jwt.MapClaims) { m["sub"] = strings.ToUpper(testUser) },
		"sub nil uuid":       func(m jwt.MapClaims) { m["sub"] = "00000000-0000-0000-0000-000000000000" },
		"missing session":    func(m jwt.MapClaims) { delete(m, "session_id") },
		"session not a uuid": func(m jwt.MapClaims) { m["session_id"] = "1 OR 1=1" },
		"missing jti":        func(m jwt.MapClaims) { delete(m, "jti") },
		"negative aal_at":    func(m jwt.MapClaims) { m["aal_at"] = -1 },
	}
	for name, edit := range claimCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wantRejected(t, iss, forge(t, ed, priv, "k1", with(edit)))
		})
	}

	t.Run("oversized token", func(t *testing.T) {
		t.Parallel()
		m := with(func(m jwt.MapClaims) { m["pad"] = strings.Repeat("x", maxBytes) })
		wantRejected(t, iss, forge(t, ed, priv, "k1", m))
	})

	t.Run("garbage", func(t *testing.T) {
		t.Parallel()
		for _, s := range []string{"", ".", "..", "a.b.c", "Bearer x"} {
			wantRejected(t, iss, s)
		}
	})
}

// escalate rewrites tok's payload to claim platform_admin and aal2, keeping
// the original signature.
func escalate(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["role"], m["aal"] = RolePlatformAdmin, AAL2
	raw, _ = json.Marshal(m)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

func TestIssueVerify(t *testing.T) {
	t.Parallel()
	iss := setup(t)

	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		in := Claims{
			RegisteredClaims: jwt.RegisteredClaims{Subject: testUser},
			Role:             RolePlatformAdmin, SessionID: testSession,
			AAL: AAL2, AALAt: time.Now().Unix(),
		}
		tok, exp, err := iss.Issue(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := iss.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, in, out, exp)
	})

	t.Run("header names the signing key", func(t *testing.T) {
		t.Parallel()
		tok, _, _ := iss.Issue(validClaims())
		parsed, _, err := jwt.NewParser().ParseUnverified(tok, &Claims{})
		if err != nil {
			t.Fatal(err)
		}
		if parsed.Header["kid"] != "k1" || parsed.Header["alg"] != "EdDSA" {
			t.Fatalf("header = %v", parsed.Header)
		}
	})

	t.Run("jti is unique", func(t *testing.T) {
		t.Parallel()
		a, _, _ := iss.Issue(validClaims())
		b, _, _ := iss.Issue(validClaims())
		ca, _ := iss.Verify(a)
		cb, _ := iss.Verify(b)
		if ca.ID == "" || ca.ID == cb.ID {
			t.Fatalf("jti %q, %q", ca.ID, cb.ID)
		}
	})

	t.Run("invalid claims are not issued", func(t *testing.T) {
		t.Parallel()
		c := validClaims()
		c.Role = "superuser"
		if _, _, err := iss.Issue(c); err == nil {
			t.Fatal("Issue signed a bad role")
		}
	})

	t.Run("rotated key still verifies", func(t *testing.T) {
		t.Parallel()
		old, _, _ := iss.Issue(validClaims())
		rotated, err := NewIssuer(testIss, testAud, time.Minute,
			[]Key{GenerateKey("k2"), fixedKey})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rotated.Verify(old); err != nil {
			t.Fatalf("token of the previous key rejected: %v", err)
		}
		fresh, _, _ := rotated.Issue(validClaims())
		if _, err := iss.Verify(fresh); !errors.Is(err, ErrInvalidToken) {
			t.Fatal("old issuer accepted a key it does not know")
		}
	})
}

func validClaims() Claims {
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: testUser},
		Role:             RoleAuthenticated, SessionID: testSession, AAL: AAL1,
	}
}

func checkRoundTrip(t *testing.T, in Claims, out *Claims, exp time.Time) {
	t.Helper()
	if out.Subject != in.Subject || out.Role != in.Role ||
		out.SessionID != in.SessionID || out.AAL != in.AAL || out.AALAt != in.AALAt {
		t.Fatalf("claims changed: in %+v, out %+v", in, out)
	}
	if out.Issuer != testIss || len(out.Audience) != 1 || out.Audience[0] != testAud {
		t.Fatalf("iss %q, aud %v", out.Issuer, out.Audience)
	}
	if !out.ExpiresAt.Equal(exp) || out.IssuedAt == nil || out.NotBefore == nil {
		t.Fatalf("times: exp %v (want %v), iat %v, nbf %v",
			out.ExpiresAt, exp, out.IssuedAt, out.NotBefore)
	}
}

func TestNewIssuer(t *testing.T) {
	t.Parallel()
	k := GenerateKey("k1")

	cases := map[string]struct {
		iss, aud string
		ttl      time.Duration
		keys     []Key
	}{
		"ttl above 15 minutes": {testIss, testAud, MaxTTL + time.Second, []Key{k}},
		"zero ttl":             {testIss, testAud, 0, []Key{k}},
		"negative ttl":         {testIss, testAud, -time.Minute, []Key{k}},
		"no keys":              {testIss, testAud, time.Minute, nil},
		"empty issuer":         {"", testAud, time.Minute, []Key{k}},
		"empty audience":       {testIss, "", time.Minute, []Key{k}},
		"duplicate kid":        {testIss, testAud, time.Minute, []Key{k, GenerateKey("k1")}},
		"empty kid":            {testIss, testAud, time.Minute, []Key{GenerateKey("")}},
		"truncated key":        {testIss, testAud, time.Minute, []Key{{ID: "k", Private: k.Private[:10]}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewIssuer(tc.iss, tc.aud, tc.ttl, tc.keys); err == nil {
				t.Fatal("NewIssuer accepted it")
			}
		})
	}

	t.Run("15 minutes accepted", func(t *testing.T) {
		t.Parallel()
		if _, err := NewIssuer(testIss, testAud, MaxTTL, []Key{k}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseKeys(t *testing.T) {
	t.Parallel()

	t.Run("format round trip keeps order", func(t *testing.T) {
		t.Parallel()
		spec := FormatKeys([]Key{GenerateKey("new"), GenerateKey("old")})
		keys, err := ParseKeys(spec + " ")
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0].ID != "new" || keys[1].ID != "old" {
			t.Fatalf("keys = %v", keys)
		}
		if FormatKeys(keys) != spec {
			t.Fatal("seeds changed in the round trip")
		}
	})

	seed := base64.StdEncoding.EncodeToString(make([]byte, 32))
	bad := map[string]string{
		"empty":         "",
		"missing colon": "k1" + seed,
		"empty kid":     ":" + seed,
		"bad kid":       "k 1:" + seed,
		"bad base64":    "k1:***",
		"short seed":    "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"duplicate":     "k1:" + seed + ",k1:" + seed,
		"trailing item": "k1:" + seed + ",",
	}
	for name, spec := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseKeys(spec); err == nil {
				t.Fatalf("ParseKeys(%q) accepted it", spec)
			}
		})
	}

	t.Run("printing a key hides its seed", func(t *testing.T) {
		t.Parallel()
		k := GenerateKey("k1")
		seed := base64.StdEncoding.EncodeToString(k.Private.Seed())
		for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v %#v", k, k)} {
			if strings.Contains(s, seed) || strings.Contains(s, fmt.Sprint([]byte(k.Private))) {
				t.Fatalf("key printed as %q", s)
			}
		}
	})
}

func TestRefreshToken(t *testing.T) {
	t.Parallel()

	t.Run("shape and hash", func(t *testing.T) {
		t.Parallel()
		key := []byte("0123456789abcdef0123456789abcdef")
		plain, hash := NewRefreshToken(key)
		body, ok := strings.CutPrefix(plain, RefreshPrefix)
		if !ok || len(body) != 43 || strings.ContainsAny(body, "+/=") {
			t.Fatalf("token %q", plain)
		}
		if string(hash) != string(HashRefreshToken(key, plain)) || len(hash) != 32 {
			t.Fatal("hash does not match HashRefreshToken")
		}
	})

	t.Run("the hash depends on the key", func(t *testing.T) {
		t.Parallel()
		plain, hash := NewRefreshToken([]byte("key one"))
		if string(hash) == string(HashRefreshToken([]byte("key two"), plain)) {
			t.Fatal("hashes under two keys are equal")
		}
	})

	t.Run("tokens are unique", func(t *testing.T) {
		t.Parallel()
		a, _ := NewRefreshToken(nil)
		b, _ := NewRefreshToken(nil)
		if a == b {
			t.Fatal("two refresh tokens are equal")
		}
	})
}

func FuzzVerify(f *testing.F) {
	iss := setup(f)
	valid, _, err := iss.Issue(validClaims())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(forge(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k1", validMap()))
	f.Add(forge(f, jwt.SigningMethodHS256, []byte(fixedKey.Public()), "k1", validMap()))
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.")
	f.Add(strings.Repeat(".", 100))

	f.Fuzz(func(t *testing.T, tok string) {
		c, err := iss.Verify(tok)
		if err != nil && (c != nil || !errors.Is(err, ErrInvalidToken)) {
			t.Fatalf("Verify = %v, %v", c, err)
		}
		if err == nil && (c == nil || checkClaims(c) != nil) {
			t.Fatalf("accepted invalid claims %+v", c)
		}
	})
}
