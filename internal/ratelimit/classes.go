package ratelimit

import "time"

// Class is a route class: the kind of work a request does, which decides
// the limit it is counted against. It is also the label of rate-limit
// metrics, so the set stays small and fixed.
type Class string

// The route classes. ClassIP is the global per-IP budget every request
// spends before any class budget.
const (
	ClassIP           Class = "ip"
	ClassAuth         Class = "auth"
	ClassPublicRead   Class = "public_read"
	ClassRead         Class = "read"
	ClassWrite        Class = "write"
	ClassCustomerData Class = "customer_data"
	ClassExport       Class = "export"
	// ClassPublicRecords counts the records public lists return, per
	// address: a page of 100 costs 100. It caps what one address can copy
	// out of the market however it pages.
	ClassPublicRecords Class = "public_records"
	// ClassPublicCrawl counts the pages a public list is followed to by
	// its cursor, per address. People look at a few pages of results;
	// walking page after page is what a crawler does, and running out of
	// this budget is reported as scraping_suspected.
	ClassPublicCrawl Class = "public_crawl"
	// ClassAI has no default: each AI feature's limit comes from its row
	// of app.ai_rate_limits_config and is spent with Guard.CheckPolicy.
	ClassAI Class = "ai"
)

// PerIP reports whether c is counted per client address (IPKey) rather
// than per principal (UserKey).
func (c Class) PerIP() bool {
	switch c {
	case ClassIP, ClassAuth, ClassPublicRead, ClassPublicRecords, ClassPublicCrawl:
		return true
	}
	return false
}

// DefaultPolicies returns the default limit of every class but ClassAI,
// whose limit the caller supplies from configuration. The map is new on
// every call, so callers may change it.
func DefaultPolicies() map[Class]Limit {
	return map[Class]Limit{
		ClassIP:           {Rate: 1200, Period: time.Minute, Burst: 300},
		ClassAuth:         {Rate: 10, Period: time.Minute, Burst: 10},
		ClassPublicRead:   {Rate: 120, Period: time.Minute, Burst: 60},
		ClassRead:         {Rate: 600, Period: time.Minute, Burst: 120},
		ClassWrite:        {Rate: 120, Period: time.Minute, Burst: 40},
		ClassCustomerData: {Rate: 120, Period: time.Minute, Burst: 30},
		ClassExport:       {Rate: 10, Period: time.Hour, Burst: 2},
		// 3,000 records in 10 minutes with 1,000 at once: thirty full
		// pages, far more than a shopper looks at.
		ClassPublicRecords: {Rate: 3000, Period: 10 * time.Minute, Burst: 1000},
		// 40 continued pages in 10 minutes, 20 in a row.
		ClassPublicCrawl: {Rate: 40, Period: 10 * time.Minute, Burst: 20},
	}
}
