package threat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Break is the first link of a chain that does not verify.
type Break struct {
	Chain    string
	ChainSeq int64
	RowID    int64
	Reason   string
}

func (b *Break) Error() string {
	return fmt.Sprintf("%s: chain breaks at row id %d (chain_seq %d): %s",
		b.Chain, b.RowID, b.ChainSeq, b.Reason)
}

// ChainReport is the result of verifying one chain.
type ChainReport struct {
	Chain    string
	Verified int64
	Unsealed int64
	Break    *Break
}

// chains names each chain's table and the SQL digest of a row; both are
// fixed here, never built from input.
var chains = []struct{ name, rows, unsealed string }{
	{"security_events", `
select e.id, e.chain_seq, e.chain_hash,
       security.event_digest_text(e)
from security.security_events e
where e.chain_seq is not null
order by e.chain_seq`,
		`select count(*) from security.security_events where chain_seq is null`},
	{"customer_access_audit", `
select a.id, a.chain_seq, a.chain_hash,
       security.audit_digest_text(a)
from security.customer_access_audit a
where a.chain_seq is not null
order by a.chain_seq`,
		`select count(*) from security.customer_access_audit where chain_seq is null`},
}

// Verify walks both hash chains from their checkpoints and reports, for
// each, how many rows verified and the first broken link. It needs an
// owner connection: no request role can read the audit tables.
func Verify(ctx context.Context, conn *pgx.Conn) ([]ChainReport, error) {
	var out []ChainReport
	for _, c := range chains {
		r, err := verifyChain(ctx, conn, c.name, c.rows)
		if err != nil {
			return nil, err
		}
		if err := conn.QueryRow(ctx, c.unsealed).Scan(&r.Unsealed); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func verifyChain(ctx context.Context, conn *pgx.Conn, name, query string) (ChainReport, error) {
	rep := ChainReport{Chain: name}
	var seq int64
	var prev []byte
	err := conn.QueryRow(ctx, `
select chain_seq, chain_hash from security.chain_checkpoints where chain = $1`,
		name).Scan(&seq, &prev)
	if err != nil {
		return rep, fmt.Errorf("read %s checkpoint: %w", name, err)
	}
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return rep, fmt.Errorf("read %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, s int64
		var hash []byte
		var digest string
		if err := rows.Scan(&id, &s, &hash, &digest); err != nil {
			return rep, err
		}
		want := sha256.Sum256(append(append([]byte{}, prev...), digest...))
		switch {
		case s != seq+1:
			rep.Break = &Break{Chain: name, ChainSeq: seq + 1, RowID: id,
				Reason: fmt.Sprintf("row %d follows chain_seq %d: rows were removed", s, seq)}
		case !bytes.Equal(hash, want[:]):
			rep.Break = &Break{Chain: name, ChainSeq: s, RowID: id,
				Reason: "the row's content or the link before it was changed"}
		}
		if rep.Break != nil {
			return rep, nil
		}
		seq, prev = s, hash
		rep.Verified++
	}
	return rep, rows.Err()
}
