package config

import (
	"encoding/base64"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))

	t.Run("production refuses to start without secrets", func(t *testing.T) {
		_, err := Load(env(map[string]string{"DATABASE_URL": "postgres://x"}))
		if err == nil {
			t.Fatal("loaded without secrets")
		}
		for _, name := range []string{"RAMPART_JWT_KEYS", "RAMPART_PII_KEYS",
			"RAMPART_BLIND_INDEX_KEY", "RAMPART_HMAC_KEY"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name %s: %v", name, err)
			}
		}
	})

	t.Run("development generates missing secrets and says which", func(t *testing.T) {
		c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://x",
			"RAMPART_ENV": "development"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Generated) != 4 || len(c.JWTKeys) != 1 || len(c.HMACKey) != 32 {
			t.Fatalf("generated %v", c.Generated)
		}
	})

	t.Run("a bad key is refused without echoing it", func(t *testing.T) {
		_, err := Load(env(map[string]string{"DATABASE_URL": "postgres://x",
			"RAMPART_ENV": "development", "RAMPART_HMAC_KEY": "c2VjcmV0LXZhbHVl"}))
		if err == nil || strings.Contains(err.Error(), "c2VjcmV0LXZhbHVl") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("an access token may not live longer than 15 minutes", func(t *testing.T) {
		_, err := Load(env(map[string]string{"DATABASE_URL": "postgres://x",
			"RAMPART_ENV": "development", "RAMPART_ACCESS_TTL": "1h"}))
		if err == nil {
			t.Fatal("accepted a 1h access token")
		}
	})

	t.Run("the printed configuration masks every secret", func(t *testing.T) {
		c, err := Load(env(map[string]string{
			"DATABASE_URL":            "postgres://api:hunter2@db/rampart",
			"RAMPART_JWT_KEYS":        "k1:" + key,
			"RAMPART_PII_KEYS":        "p1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("p", 32))),
			"RAMPART_BLIND_INDEX_KEY": key,
			"RAMPART_HMAC_KEY":        key,
			"RAMPART_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.1",
		}))
		if err != nil {
			t.Fatal(err)
		}
		out := strings.Join(c.Redacted(), "\n")
		for _, secret := range []string{"hunter2", key} {
			if strings.Contains(out, secret) {
				t.Errorf("printed configuration contains a secret:\n%s", out)
			}
		}
		if !strings.Contains(out, "192.168.1.1/32") {
			t.Errorf("trusted proxies not shown:\n%s", out)
		}
	})
}
