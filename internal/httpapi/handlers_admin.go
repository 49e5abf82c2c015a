package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/marketplace"
)

// adminRoutes are the platform admins' incident tools. Every one runs
// through a security.admin_* function, which checks the account's platform
// role and a second factor verified in the last 15 minutes.
func (s *Server) adminRoutes(r chi.Router) {
	r.Route("/admin", func(r chi.Router) {
		r.Use(s.requireAdminRole)
		r.Get("/security/events", s.wrap(s.adminEvents))
		r.Post("/security/events/{eventID}/acknowledge", s.wrap(s.adminEventStatus("acknowledged")))
		r.Post("/security/events/{eventID}/resolve", s.wrap(s.adminEventStatus("resolved")))
		r.Get("/security/blocks", s.wrap(s.adminBlocks))
		r.Post("/security/blocks", s.wrap(s.adminBlock))
		r.Delete("/security/blocks/{blockID}", s.wrap(s.adminUnblock))
		r.Post("/users/{userID}/suspend", s.wrap(s.adminSuspend))
		r.Post("/users/{userID}/unsuspend", s.wrap(s.adminUnsuspend))
		r.Get("/security/access-audit", s.wrap(s.adminAccessAudit))
		r.Get("/security/metrics", s.wrap(s.adminMetrics))
	})
}

// requireAdminRole answers 403 to anyone whose token is not a platform
// admin's; the database checks again, from the account itself.
func (s *Server) requireAdminRole(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.requirePlatformAdmin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// SecurityEvent is an event as admins see it.
type SecurityEvent struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	Severity   string          `json:"severity"`
	SourceIP   *netip.Addr     `json:"source_ip"`
	UserID     *uuid.UUID      `json:"user_id"`
	MerchantID *uuid.UUID      `json:"merchant_id"`
	RequestID  *string         `json:"request_id"`
	Details    json.RawMessage `json:"details"`
	Count      int32           `json:"count"`
	FirstSeen  time.Time       `json:"first_seen"`
	LastSeen   time.Time       `json:"last_seen"`
	Status     string          `json:"status"`
	StatusBy   *uuid.UUID      `json:"status_by"`
	Note       *string         `json:"note"`
}

func (s *Server) adminEvents(w http.ResponseWriter, r *http.Request) error {
	f, err := adminFilter(r, "kind", "severity", "status", "since", "until",
		"ip", "user_id", "cursor", "limit")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (list[SecurityEvent], error) {
		rows, err := q.Query(ctx, `
select id, kind, severity, host(source_ip)::inet, user_id, merchant_id,
       request_id, details, count, first_seen, last_seen, status,
       status_by, note
from security.admin_events($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			f.str("kind"), f.str("severity"), f.str("status"), f.time("since"),
			f.time("until"), f.str("ip"), f.uuid("user_id"), f.int("cursor"),
			f.limit())
		if err != nil {
			return list[SecurityEvent]{}, err
		}
		out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SecurityEvent, error) {
			var e SecurityEvent
			err := row.Scan(&e.ID, &e.Kind, &e.Severity, &e.SourceIP, &e.UserID,
				&e.MerchantID, &e.RequestID, &e.Details, &e.Count, &e.FirstSeen,
				&e.LastSeen, &e.Status, &e.StatusBy, &e.Note)
			return e, err
		})
		return pageByID(out, f.limit(), func(e SecurityEvent) int64 { return e.ID }), err
	})
}

// pageByID wraps a newest-first page whose cursor is the last row's id.
func pageByID[T any](rows []T, limit int, id func(T) int64) list[T] {
	out := list[T]{Data: rows}
	if out.Data == nil {
		out.Data = []T{}
	}
	if len(rows) == limit && limit > 0 {
		c := strconv.FormatInt(id(rows[len(rows)-1]), 10)
		out.NextCursor = &c
	}
	return out
}

type noteInput struct {
	Note *string `json:"note"`
}

func (s *Server) adminEventStatus(status string) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := strconv.ParseInt(chiParam(r, "eventID"), 10, 64)
		if err != nil {
			return apperr.New(apperr.NotFound, "event not found")
		}
		var in noteInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		if in.Note != nil && len(*in.Note) > 1000 {
			return invalidField("note", "at most 1000 characters")
		}
		if in.Note != nil {
			if err := marketplace.CheckText("note", *in.Note, 0, 1000); err != nil {
				return err
			}
		}
		return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
			return found(q.QueryRow(ctx,
				`select security.admin_set_event_status($1, $2, $3)`, id, status, in.Note), "event")
		})
	}
}

// found scans a boolean answer and turns false into not_found.
func found(row pgx.Row, what string) error {
	var ok bool
	if err := row.Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.NotFound, what+" not found")
	}
	return nil
}

// Block is a live IP block.
type Block struct {
	ID        int64        `json:"id"`
	Network   netip.Prefix `json:"network"`
	Source    string       `json:"source"`
	Reason    string       `json:"reason"`
	CreatedBy *uuid.UUID   `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	ExpiresAt *time.Time   `json:"expires_at"`
}

func (s *Server) adminBlocks(w http.ResponseWriter, r *http.Request) error {
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (list[Block], error) {
		rows, err := q.Query(ctx, `
select id, network, source, reason, created_by, created_at, expires_at
from security.admin_blocks()`)
		if err != nil {
			return list[Block]{}, err
		}
		out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Block])
		if out == nil {
			out = []Block{}
		}
		return list[Block]{Data: out}, err
	})
}

func (s *Server) adminBlock(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Network         string `json:"network"`
		Reason          string `json:"reason"`
		DurationSeconds *int64 `json:"duration_seconds"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := parseNetwork(in.Network)
	if err != nil {
		return err
	}
	if err := blockable(p, clientIP(r)); err != nil {
		return err
	}
	if len(in.Reason) < 3 || len(in.Reason) > 200 {
		return invalidField("reason", "3 to 200 characters")
	}
	if err := marketplace.CheckText("reason", in.Reason, 3, 200); err != nil {
		return err
	}
	var dur *time.Duration
	if in.DurationSeconds != nil {
		if *in.DurationSeconds < 60 || *in.DurationSeconds > 365*24*3600 {
			return invalidField("duration_seconds", "from 60 seconds to a year")
		}
		d := time.Duration(*in.DurationSeconds) * time.Second
		dur = &d
	}
	return txJSON(s, w, r, http.StatusCreated, func(ctx context.Context, q db.Querier) (Block, error) {
		var id int64
		if err := q.QueryRow(ctx, `select security.admin_block($1, $2, $3)`,
			p, in.Reason, dur).Scan(&id); err != nil {
			return Block{}, err
		}
		row, err := q.Query(ctx, `
select id, network, source, reason, created_by, created_at, expires_at
from security.admin_blocks() where id = $1`, id)
		if err != nil {
			return Block{}, err
		}
		return pgx.CollectExactlyOneRow(row, pgx.RowToStructByPos[Block])
	})
}

func parseNetwork(v string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(v)
	if err != nil {
		a, aerr := netip.ParseAddr(v)
		if aerr != nil {
			return p, invalidField("network", "must be an address or CIDR")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return p.Masked(), nil
}

func (s *Server) adminUnblock(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chiParam(r, "blockID"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "block not found")
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return found(q.QueryRow(ctx, `select security.admin_unblock($1)`, id), "block")
	})
}

func (s *Server) adminSuspend(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Reason string `json:"reason"`
	}
	id, err := idsAndBody(w, r, &in, "userID")
	if err != nil {
		return err
	}
	if len(in.Reason) < 3 || len(in.Reason) > 200 {
		return invalidField("reason", "3 to 200 characters")
	}
	if err := marketplace.CheckText("reason", in.Reason, 3, 200); err != nil {
		return err
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return found(q.QueryRow(ctx, `select security.admin_suspend($1, $2)`,
			id[0], in.Reason), "active user")
	})
}

func (s *Server) adminUnsuspend(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "userID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return found(q.QueryRow(ctx, `select security.admin_unsuspend($1)`, id[0]),
			"suspended user")
	})
}

// AccessAuditRow is one customer-data access as admins see it.
type AccessAuditRow struct {
	ID         int64       `json:"id"`
	At         time.Time   `json:"at"`
	UserID     *uuid.UUID  `json:"user_id"`
	SessionID  *uuid.UUID  `json:"session_id"`
	IP         *netip.Addr `json:"ip"`
	RequestID  *string     `json:"request_id"`
	MerchantID uuid.UUID   `json:"merchant_id"`
	CustomerID *uuid.UUID  `json:"customer_id"`
	Kind       string      `json:"kind"`
	Fields     []string    `json:"fields"`
	Reason     *string     `json:"reason"`
	Result     string      `json:"result"`
}

func (s *Server) adminAccessAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := adminFilter(r, "merchant_id", "user_id", "customer_id", "since",
		"until", "cursor", "limit")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (list[AccessAuditRow], error) {
		rows, err := q.Query(ctx, `
select id, at, user_id, session_id, host(ip)::inet, request_id, merchant_id,
       customer_id, kind, fields, reason, result
from security.admin_access_audit($1, $2, $3, $4, $5, $6, $7)`,
			f.uuid("merchant_id"), f.uuid("user_id"), f.uuid("customer_id"),
			f.time("since"), f.time("until"), f.int("cursor"), f.limit())
		if err != nil {
			return list[AccessAuditRow]{}, err
		}
		out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AccessAuditRow])
		return pageByID(out, f.limit(), func(a AccessAuditRow) int64 { return a.ID }), err
	})
}

func (s *Server) adminMetrics(w http.ResponseWriter, r *http.Request) error {
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (json.RawMessage, error) {
		var raw json.RawMessage
		err := q.QueryRow(ctx, `select security.get_security_metrics()`).Scan(&raw)
		return raw, err
	})
}

// Shortest prefixes an admin may block through the API: a /8 of IPv4 is
// already sixteen million addresses, a /32 of IPv6 a whole provider.
// Wider blocks are almost always a slip ("0.0.0.0/0") that would lock out
// every user, the admin included; `rampart blocklist import` remains for
// deliberate lists.
const (
	minBlockBits4 = 8
	minBlockBits6 = 32
)

// blockable refuses a block that would cut off everyone or the admin
// making it: a prefix wider than the limits above, or a network holding
// the caller's own address (which only the CLI can then lift).
func blockable(p netip.Prefix, caller string) error {
	least := minBlockBits6
	if p.Addr().Is4In6() {
		// ::ffff:a.b.c.d/n is the IPv4 prefix a.b.c.d/(n-96).
		if p.Bits() < 96 {
			return invalidField("network", "an IPv4-mapped prefix must be /96 or longer")
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.Addr().Is4() {
		least = minBlockBits4
	}
	if p.Bits() < least {
		return invalidField("network", fmt.Sprintf("prefix must be /%d or longer", least))
	}
	if a, err := netip.ParseAddr(caller); err == nil && p.Contains(a.Unmap()) {
		return invalidField("network", "holds your own address; you would lock yourself out")
	}
	return nil
}
