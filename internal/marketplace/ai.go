package marketplace

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/db"
)

var featureRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// AILimit is the budget of one AI feature.
type AILimit struct {
	Feature           string    `json:"feature"`
	RequestsPerMinute int32     `json:"requests_per_minute"`
	Burst             int32     `json:"burst"`
	Enabled           bool      `json:"enabled"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// AILimitInput is the body of a budget change.
type AILimitInput struct {
	RequestsPerMinute *int32 `json:"requests_per_minute"`
	Burst             *int32 `json:"burst"`
	Enabled           *bool  `json:"enabled"`
}

func scanAILimit(r scanner) (AILimit, error) {
	var l AILimit
	err := r.Scan(&l.Feature, &l.RequestsPerMinute, &l.Burst, &l.Enabled,
		&l.UpdatedAt)
	return l, err
}

// ListAILimits returns every AI budget (signed-in users).
func ListAILimits(ctx context.Context, q db.Querier) ([]AILimit, error) {
	rows, err := q.Query(ctx, `
select feature, requests_per_minute, burst, enabled, updated_at
from app.ai_rate_limits_config
order by feature`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAILimit)
}

// PutAILimit creates or replaces a feature's budget (platform admins; the
// database refuses everyone else).
func PutAILimit(ctx context.Context, q db.Querier, feature string, in AILimitInput) (AILimit, error) {
	if !featureRE.MatchString(feature) {
		return AILimit{}, invalid("feature", "must be a lower-case identifier")
	}
	if err := requireRecentAAL2(ctx, q); err != nil {
		return AILimit{}, err
	}
	if in.RequestsPerMinute == nil || in.Burst == nil || in.Enabled == nil {
		return AILimit{}, invalid("requests_per_minute",
			"requests_per_minute, burst and enabled are required")
	}
	if *in.RequestsPerMinute < 0 || *in.RequestsPerMinute > 100000 ||
		*in.Burst < 0 || *in.Burst > 100000 {
		return AILimit{}, invalid("requests_per_minute", "must be 0 to 100000")
	}
	// The features are the ones the service has, each with its row from
	// the migrations; a name without a row is a typo, not a new feature,
	// and must not leave a row nothing reads.
	l, err := scanAILimit(q.QueryRow(ctx, `
update app.ai_rate_limits_config set
  requests_per_minute = $2,
  burst = $3,
  enabled = $4,
  updated_at = now()
where feature = $1
returning feature, requests_per_minute, burst, enabled, updated_at`,
		feature, *in.RequestsPerMinute, *in.Burst, *in.Enabled))
	return l, notFoundAs(err, "AI feature")
}

// FeatureSuggestPrice is the AI feature of SuggestPrice: the name of its
// budget's row in app.ai_rate_limits_config.
const FeatureSuggestPrice = "suggest_price"

// Usable reports whether the budget lets anything through. A feature
// switched off, or one whose rate or burst is zero, is disabled rather
// than rate-limited: no amount of waiting would admit a call.
func (l AILimit) Usable() bool {
	return l.Enabled && l.RequestsPerMinute > 0 && l.Burst > 0
}

// GetAILimit returns one feature's budget, and false when no row names
// the feature. It is read per request, not cached, so a platform admin's
// change applies to the next call on every instance.
func GetAILimit(ctx context.Context, q db.Querier, feature string) (AILimit, bool, error) {
	l, err := scanAILimit(q.QueryRow(ctx, `
select feature, requests_per_minute, burst, enabled, updated_at
from app.ai_rate_limits_config
where feature = $1`, feature))
	if errors.Is(err, pgx.ErrNoRows) {
		return AILimit{}, false, nil
	}
	return l, err == nil, err
}
