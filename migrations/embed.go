// Package migrations holds the numbered up/down SQL migrations of the
// Rampart schema, embedded into the binary so a deploy carries its schema.
package migrations

import "embed"

// FS holds every *.sql migration, named for golang-migrate's iofs source
// (NNNNNN_name.up.sql and NNNNNN_name.down.sql).
//
//go:embed *.sql
var FS embed.FS
