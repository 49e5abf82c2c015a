package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/threat"
)

// ownerConn connects to DATABASE_URL, which for these commands must be an
// owner or superuser connection: the audit tables are closed to the
// service's own login.
func ownerConn(ctx context.Context) (*pgx.Conn, error) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return nil, errors.New("DATABASE_URL is required (an owner or superuser connection)")
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return conn, nil
}

// auditCmd verifies the hash chains of the audit trail, or applies the
// retention period to them.
func auditCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{"audit needs verify or retain --keep DURATION"}
	}
	conn, err := ownerConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	switch args[0] {
	case "verify":
		return auditVerify(ctx, conn)
	case "retain":
		fs := flag.NewFlagSet("audit retain", flag.ContinueOnError)
		keep := fs.Duration("keep", 90*24*time.Hour, "keep rows this recent")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{err.Error()}
		}
		var n int
		err := conn.QueryRow(ctx, `select security.apply_retention($1)`, *keep).Scan(&n)
		if err != nil {
			return fmt.Errorf("apply retention: %w", err)
		}
		fmt.Printf("removed %d sealed rows older than %s; checkpoints moved\n", n, *keep)
		return auditVerify(ctx, conn)
	}
	return usageError{fmt.Sprintf("unknown audit command %q", args[0])}
}

func auditVerify(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, `select security.seal_chains()`); err != nil {
		return fmt.Errorf("seal pending rows: %w", err)
	}
	reports, err := threat.Verify(ctx, conn)
	if err != nil {
		return err
	}
	var broken error
	for _, r := range reports {
		if r.Break != nil {
			fmt.Printf("%s: BROKEN after %d verified rows: %v\n", r.Chain, r.Verified, r.Break)
			broken = errors.Join(broken, r.Break)
			continue
		}
		fmt.Printf("%s: %d rows verified, %d not yet sealed\n", r.Chain, r.Verified, r.Unsealed)
	}
	return broken
}

var sourceRE = regexp.MustCompile(`^[a-z0-9_.-]{1,40}$`)

// blocklistCmd imports a public reputation list: one address or CIDR a
// line, '#' and ';' start comments. The list replaces the previous import
// of the same source in one transaction.
func blocklistCmd(ctx context.Context, args []string) error {
	if len(args) == 2 && args[0] == "lift" {
		return liftBlock(ctx, args[1])
	}
	if len(args) < 2 || args[0] != "import" {
		return usageError{"blocklist needs import FILE --source NAME, or lift ADDRESS"}
	}
	fs := flag.NewFlagSet("blocklist import", flag.ContinueOnError)
	source := fs.String("source", "", "name of the list, e.g. spamhaus_drop")
	if err := fs.Parse(args[2:]); err != nil {
		return usageError{err.Error()}
	}
	if !sourceRE.MatchString(*source) {
		return usageError{"--source must be 1 to 40 of a-z 0-9 _ . -"}
	}
	nets, skipped, err := readList(args[1])
	if err != nil {
		return err
	}
	conn, err := ownerConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if err := importList(ctx, conn, "list:"+*source, nets); err != nil {
		return err
	}
	fmt.Printf("imported %d networks from %s as list:%s (%d lines skipped)\n",
		len(nets), args[1], *source, skipped)
	return nil
}

func readList(path string) ([]netip.Prefix, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var out []netip.Prefix
	skipped := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, err := netip.ParsePrefix(line)
		if err != nil {
			a, aerr := netip.ParseAddr(line)
			if aerr != nil {
				skipped++
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, skipped, sc.Err()
}

func importList(ctx context.Context, conn *pgx.Conn, source string, nets []netip.Prefix) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local role rampart_owner`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update security.blocked_ips set removed_at = now()
where source = $1 and removed_at is null`, source); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
insert into security.blocked_ips (network, source, reason)
select n, $1, 'reputation list' from unnest($2::cidr[]) n`, source, nets); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `select pg_notify('rampart_blocks', 'ip')`)
		return err
	})
}

// liftBlock removes every live block covering an address or range, for an
// operator who locked themself out (testing attacks from their own
// machine, say).
func liftBlock(ctx context.Context, network string) error {
	p, err := netip.ParsePrefix(network)
	if err != nil {
		a, aerr := netip.ParseAddr(network)
		if aerr != nil {
			return usageError{"lift needs an address or CIDR"}
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	conn, err := ownerConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var n int64
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local role rampart_owner`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `update security.blocked_ips set removed_at = now()
where removed_at is null and (network >>= $1 or network <<= $1)`, p.Masked())
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `select pg_notify('rampart_blocks', 'ip')`)
		return err
	})
	if err != nil {
		return fmt.Errorf("lift blocks: %w", err)
	}
	fmt.Printf("lifted %d blocks covering %s\n", n, p.Masked())
	return nil
}
