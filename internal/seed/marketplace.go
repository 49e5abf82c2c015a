package seed

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// MarketplacePassword is the password of every seller owner account the
// marketplace seed creates.
const MarketplacePassword = "olist-Merchant-seed-2024!"

// sellersDomain is the mail domain of the seller owner accounts.
const sellersDomain = "sellers.example.test"

// defaultWorkers is how many sellers load at once. Each worker holds one
// connection at a time, and password hashing, which dominates a small
// seller's load, is bounded by the CPUs anyway.
const defaultWorkers = 4

// MarketplaceOptions tune MarketplaceWithOptions. The zero value loads the
// whole dataset.
type MarketplaceOptions struct {
	// MaxSellers loads only the first MaxSellers sellers of the sellers
	// file and their parts of orders; 0 loads all.
	MaxSellers int
	// Workers is how many sellers load at once (0: 4); it never exceeds
	// the pool's maximum connections.
	Workers int
	// Progress is the interval between progress lines (0: 5 s).
	Progress time.Duration
}

// Marketplace loads the Olist marketplace dataset from dir (see
// MarketplaceWithOptions).
func Marketplace(ctx context.Context, d Deps, dir string, out io.Writer) error {
	return MarketplaceWithOptions(ctx, d, dir, out, MarketplaceOptions{})
}

// MarketplaceWithOptions loads the Olist dataset from dir through the API's
// code paths. Each seller becomes a merchant owned by a new account
// (seller-<id>@sellers.example.test, password MarketplacePassword) with a
// published page; each product it sold becomes one of its items, published
// and listed on the market; and each order becomes one order per seller
// that took part in it, for a merchant customer made from the Olist
// customer with synthetic name, email, phone and street. An order's
// payments are split among its sellers' parts in proportion to each part's
// value (prices plus freight); the last part takes the rounding remainder.
// An item's price is the first price the seller charged for the product
// and, as in the API, lines are priced from items; so where a price changed
// over time, an order's total differs from its payments (about a fifth of
// the orders).
//
// Sellers load in parallel, each in a few transactions: one for the
// merchant, its page, items and listings, then one per batch of orders. A
// second run resumes: sellers, items, customers and orders that exist are
// recognised by slug, SKU and external reference and not created again.
// A file missing from dir is named in the error before anything is loaded.
func MarketplaceWithOptions(ctx context.Context, d Deps, dir string, out io.Writer, opt MarketplaceOptions) error {
	start := time.Now()
	ds, err := loadDataset(dir)
	if err != nil {
		return err
	}
	plans := planSellers(ds, opt.MaxSellers)
	if len(plans) == 0 {
		return fmt.Errorf("marketplace dataset: %s has no sellers", fileSellers)
	}

	// Loading is a batch job, not a request: on a busy machine one seller's
	// items or a batch of its orders may outlast a request's bound, and
	// one timeout would stop the whole load.
	bulk := *d.DB
	bulk.TxTimeout = loadTxTimeout
	d.DB = &bulk

	l := &loader{d: d, st: &stats{}}
	if l.resume, err = l.loaded(ctx, plans[0]); err != nil {
		return err
	}
	workers := l.workers(opt.Workers)
	mode := "loading"
	if l.resume {
		mode = "resuming"
	}
	fmt.Fprintf(out, "%s %d sellers with %d workers\n", mode, len(plans),
		workers)

	stop := l.st.report(out, start, len(plans), opt.Progress)
	err = l.run(ctx, plans, workers)
	stop()
	if err != nil {
		return err
	}
	return l.st.print(out, l.d.Listen, time.Since(start), plans[0])
}

// loadTxTimeout bounds each transaction of a dataset load.
const loadTxTimeout = 5 * time.Minute

// loader loads sellers; it is shared by the workers.
type loader struct {
	d      Deps
	st     *stats
	resume bool
}

// loaded reports whether the first seller's owner can already sign in, in
// which case every seller is checked for what exists before loading.
func (l *loader) loaded(ctx context.Context, first *sellerPlan) (bool, error) {
	const reqID = "seed-olist-check"
	p, err := signIn(ctx, l.d, reqID, sellerEmail(first.seller),
		MarketplacePassword)
	if err == nil {
		return true, signOut(ctx, l.d, reqID, p)
	}
	if isBadCredentials(err) {
		return false, nil
	}
	return false, fmt.Errorf("sign in first seller: %w", err)
}

func (l *loader) workers(n int) int {
	if n <= 0 {
		n = defaultWorkers
	}
	return min(n, int(l.d.DB.Pool.Config().MaxConns))
}

// run loads the sellers with at most workers at a time; the first error
// stops the others.
func (l *loader) run(ctx context.Context, plans []*sellerPlan, workers int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, sp := range plans {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := l.seller(gctx, sp); err != nil {
				return fmt.Errorf("seller %s: %w", sp.seller.id, err)
			}
			return nil
		})
	}
	return g.Wait()
}

func sellerEmail(s olistSeller) string {
	return "seller-" + s.id[:10] + "@" + sellersDomain
}

func sellerSlug(s olistSeller) string {
	return "seller-" + s.id[:10]
}

func sellerName(s olistSeller) string {
	return strings.Join(strings.Fields("Seller "+titleCase(s.city)+" "+
		s.id[:6]), " ")
}

// titleCase upper-cases the first letter of each word.
func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r := []rune(w)
		words[i] = strings.ToUpper(string(r[0])) + string(r[1:])
	}
	return strings.Join(words, " ")
}
