// Package api holds the OpenAPI document of Rampart's REST API, the contract
// the merchant web frontend codes against, embedded so that the binary and
// its tests read the very file that is published.
package api

import _ "embed"

// Spec is the raw bytes of openapi.yaml, an OpenAPI 3.0.3 document. It is
// never nil; callers must not modify it.
//
//go:embed openapi.yaml
var Spec []byte
