package logging

import "bytes"

// Field names are compared in lower case with everything but letters and
// digits dropped, so "API_KEY", "apiKey" and "Api-Key" are one name.

// isSecretName reports whether a whole name hides its value. Words such as
// "name", "key" or "address" are too common to hide inside longer names
// ("route_name", "key_id", "listen_address").
func isSecretName(norm []byte) bool {
	switch string(norm) {
	case "email", "phone", "name", "address", "street", "password",
		"passwd", "secret", "token", "accesstoken", "refreshtoken",
		"authorization", "cookie", "setcookie", "apikey", "key", "card",
		"cardnumber", "pan", "cvv", "ssn", "reason", "firstname",
		"lastname", "fullname", "emailaddress", "phonenumber", "cvc":
		return true
	}
	return false
}

// secretSuffixes hide a value when a name ends with them, as in
// "customer_email", "csrf_token" or "X-Refresh-Token".
var secretSuffixes = byteWords("email", "phone", "phonenumber", "token",
	"cookie", "authorization", "ssn", "cvv", "cvc", "otp", "passcode")

// secretParts hide a value wherever they appear in a name, as in
// "password_hash" or "client_secret_ref".
var secretParts = byteWords("password", "passwd", "passphrase", "secret",
	"apikey", "privatekey", "cardnumber", "creditcard")

// partStart marks the first letters of secretParts, so that most letters
// of a name are passed over at once.
var partStart = func() (t [256]bool) {
	for _, w := range secretParts {
		t[w[0]] = true
	}
	return t
}()

// maxKey bounds the normalised name kept for matching; longer names are
// matched on their last maxKey letters and digits.
const maxKey = 64

// secretKey reports whether a field named k holds a secret or PII.
func secretKey(k string) bool {
	var buf [maxKey]byte
	norm, whole := normalise(k, &buf)
	if len(norm) == 0 {
		return false
	}
	if whole && isSecretName(norm) {
		return true
	}

	last := norm[len(norm)-1]
	for _, w := range secretSuffixes {
		if w[len(w)-1] == last && bytes.HasSuffix(norm, w) {
			return true
		}
	}
	for i, c := range norm {
		if !partStart[c] {
			continue
		}
		for _, w := range secretParts {
			if w[0] == c && bytes.HasPrefix(norm[i:], w) {
				return true
			}
		}
	}
	return false
}

// normalise writes the letters and digits of k, in lower case, to the end
// of buf and returns them, and whether all of them fitted.
func normalise(k string, buf *[maxKey]byte) ([]byte, bool) {
	n := maxKey
	for i := len(k) - 1; i >= 0; i-- {
		c := keyByte[k[i]]
		if c == 0 {
			continue
		}
		if n == 0 {
			return buf[:], false
		}
		n--
		buf[n] = c
	}
	return buf[n:], true
}

// keyByte maps letters to lower case, digits to themselves and the rest,
// which names drop, to 0.
var keyByte = func() (t [256]byte) {
	for c := range t {
		switch b := byte(c); {
		case 'A' <= b && b <= 'Z':
			t[c] = b + 'a' - 'A'
		case 'a' <= b && b <= 'z', isDigit(b):
			t[c] = b
		}
	}
	return t
}()

func byteWords(ws ...string) [][]byte {
	out := make([][]byte, len(ws))
	for i, w := range ws {
		out[i] = []byte(w)
	}
	return out
}
