package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/db"
)

// probeParams maps the id parameters of merchant routes to the kind of
// object security.probe_target_elsewhere looks for.
var probeParams = [...]struct{ param, kind string }{
	{"itemID", "item"},
	{"listingID", "listing"},
	{"customerID", "customer"},
	{"orderID", "order"},
	{"userID", "user"},
}

// probeTimeout bounds the extra lookup a 404 under a merchant path costs.
const probeTimeout = 2 * time.Second

// probedElsewhere reports whether a request answered 404 under
// /v1/merchants/{merchantID}/... aimed at an id that exists in another
// tenant (or at a merchant the caller does not belong to): the pattern of
// enumeration. The answer comes from the database in a transaction of its
// own, under the caller's identity; anything that goes wrong, including a
// session that ended meanwhile, answers false, so a failure never raises a
// false alarm. It runs only for signed-in callers: the merchant routes
// need a session anyway.
func (s *Server) probedElsewhere(r *http.Request) bool {
	if principal(r) == nil || s.DB == nil {
		return false
	}
	merchant, err := uuid.Parse(chiParam(r, "merchantID"))
	if err != nil {
		return false
	}
	kind, id := "", uuid.NullUUID{}
	for _, p := range probeParams {
		if v := chiParam(r, p.param); v != "" {
			parsed, err := uuid.Parse(v)
			if err != nil {
				return false
			}
			kind, id = p.kind, uuid.NullUUID{UUID: parsed, Valid: true}
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), probeTimeout)
	defer cancel()
	var elsewhere bool
	err = s.DB.Tx(ctx, auth.DBPrincipal(principal(r), meta(r)), func(q db.Querier) error {
		return q.QueryRow(ctx,
			`select security.probe_target_elsewhere($1, nullif($2, ''), $3)`,
			merchant, kind, id).Scan(&elsewhere)
	})
	return err == nil && elsewhere
}
