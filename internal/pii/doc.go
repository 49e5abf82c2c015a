// Package pii protects customer personal data before it reaches the
// database. It seals field values with AES-256-GCM under rotating keys
// (Keyring), computes keyed blind indexes for exact lookups (Indexer),
// renders masked forms at write time so the database can serve masked data
// without ever holding plaintext (MaskEmail, MaskPhone, MaskName,
// MaskAddress), and spots raw card numbers in request bodies
// (LooksLikeCardNumber).
//
// Nothing in this package logs, and no error it returns carries plaintext
// or key material.
package pii
