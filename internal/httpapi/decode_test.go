package httpapi

import (
	"testing"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/marketplace"
)

func TestDuplicateKeysAreRefused(t *testing.T) {
	for body, dup := range map[string]bool{
		`{"name":"a","name":"b"}`:                                     true,
		`{"address":{"city":"x","city":"y"}}`:                         true,
		`{"lines":[{"quantity":1,"quantity":2}]}`:                     true,
		`{"lines":[{"quantity":1},{"quantity":2}]}`:                   false,
		`{"a":{"b":1},"b":{"a":1}}`:                                   false,
		`{"a":[1,"a",{"a":"a"}],"b":"a"}`:                             false,
		`{"a":{"x":[{"y":1}]},"b":1,"a2":{"x":1}}`:                    false,
		`{"a":{"x":[{"y":1}]},"b":1,"a":2}`:                           true,
		`{"name":"a", "name\u0000":"b"}`:                              false,
		`{"name":"a", "n\u0061me":"b"}`:                               true,
		`{"a":1,`:                                                     false,
		`[{"a":1,"a":1}]`:                                             true,
		`{"lines":[[{"q":1}],{"q":2}],"q":3}`:                         false,
		`{"e":{},"e2":[],"e3":[[]],"e4":{"f":{}},"e5":null,"e6":1.5}`: false,
	} {
		if got := duplicateKey([]byte(body)); got != dup {
			t.Errorf("duplicateKey(%s) = %v, want %v", body, got, dup)
		}
	}

	var in marketplace.CustomerInput
	err := decodeBytes([]byte(`{"name":"Maria","email":"m@example.test","name":"Eve"}`), &in)
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("decode answered %v, want invalid_request", err)
	}
	if in.Name != nil {
		t.Error("a refused body still filled the input")
	}
}
