package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/marketplace"
)

// filter is a validated set of admin query parameters.
type filter struct {
	strs  map[string]string
	times map[string]time.Time
	ids   map[string]uuid.UUID
	ints  map[string]int64
	lim   int
}

// adminFilter reads the allowed query parameters, refusing any other and
// any malformed value: times are RFC 3339, ids uuids, ip an address or
// CIDR, cursor and limit integers.
func adminFilter(r *http.Request, allowed ...string) (filter, error) {
	f := filter{strs: map[string]string{}, times: map[string]time.Time{},
		ids: map[string]uuid.UUID{}, ints: map[string]int64{},
		lim: marketplace.DefaultPageSize}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for k, vs := range r.URL.Query() {
		if !ok[k] || len(vs) != 1 {
			return f, invalidField(k, "is not a filter of this list")
		}
		if err := f.set(k, vs[0]); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (f *filter) set(k, v string) error {
	switch k {
	case "since", "until":
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return invalidField(k, "must be an RFC 3339 time")
		}
		f.times[k] = t
	case "user_id", "merchant_id", "customer_id":
		id, err := parseUUID(k, v)
		if err != nil {
			return err
		}
		f.ids[k] = id
	case "cursor":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return invalidField(k, "is not a cursor of this list")
		}
		f.ints[k] = n
	case "limit":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > marketplace.MaxPageSize {
			return invalidField(k, "must be an integer from 1 to 100")
		}
		f.lim = n
	case "ip":
		if _, err := parseNetwork(v); err != nil {
			return invalidField(k, "must be an address or CIDR")
		}
		f.strs[k] = v
	case "severity":
		if v != "low" && v != "medium" && v != "high" && v != "critical" {
			return invalidField(k, "must be low, medium, high or critical")
		}
		f.strs[k] = v
	case "status":
		if v != "open" && v != "acknowledged" && v != "resolved" {
			return invalidField(k, "must be open, acknowledged or resolved")
		}
		f.strs[k] = v
	default:
		if len(v) > 64 {
			return invalidField(k, "is too long")
		}
		f.strs[k] = v
	}
	return nil
}

func (f filter) str(k string) *string {
	if v, ok := f.strs[k]; ok {
		return &v
	}
	return nil
}

func (f filter) time(k string) *time.Time {
	if v, ok := f.times[k]; ok {
		return &v
	}
	return nil
}

func (f filter) uuid(k string) *uuid.UUID {
	if v, ok := f.ids[k]; ok {
		return &v
	}
	return nil
}

func (f filter) int(k string) *int64 {
	if v, ok := f.ints[k]; ok {
		return &v
	}
	return nil
}

func (f filter) limit() int { return f.lim }
