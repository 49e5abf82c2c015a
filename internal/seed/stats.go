package seed

import (
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"
)

// defaultProgress is the interval between progress lines.
const defaultProgress = 5 * time.Second

// counts are the rows one transaction created.
type counts struct {
	users, merchants, items, customers, orders, lines, payments int64
	statuses, skippedPayments                                   int64
}

// stats add up the counts of committed transactions across workers.
type stats struct {
	mu        sync.Mutex
	c         counts
	sellers   int
	unchanged int
}

func (s *stats) add(c counts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.users += c.users
	s.c.merchants += c.merchants
	s.c.items += c.items
	s.c.customers += c.customers
	s.c.orders += c.orders
	s.c.lines += c.lines
	s.c.payments += c.payments
	s.c.statuses += c.statuses
	s.c.skippedPayments += c.skippedPayments
}

func (s *stats) sellerDone(unchanged bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sellers++
	if unchanged {
		s.unchanged++
	}
}

func (s *stats) snapshot() (counts, int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c, s.sellers, s.unchanged
}

// report prints a progress line every interval until the returned stop
// function is called; stop waits for the printer to finish.
func (s *stats) report(out io.Writer, start time.Time, total int, every time.Duration) (stop func()) {
	if every <= 0 {
		every = defaultProgress
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c, sellers, _ := s.snapshot()
				fmt.Fprintf(out, "  %d/%d sellers, %d items, %d customers, "+
					"%d orders (%s)\n", sellers, total, c.items, c.customers,
					c.orders, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// print writes the summary: time, rows created per table and how to sign
// in as a seller.
func (s *stats) print(out io.Writer, listen string, elapsed time.Duration, first *sellerPlan) error {
	c, sellers, unchanged := s.snapshot()
	fmt.Fprintf(out, "\nmarketplace loaded in %s: %d sellers (%d already "+
		"complete)\n\n", elapsed.Round(100*time.Millisecond), sellers,
		unchanged)

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TABLE\tROWS CREATED\t")
	rows := []struct {
		table string
		n     int64
	}{
		{"auth.users", c.users}, {"app.merchants", c.merchants},
		{"app.merchant_members", c.merchants},
		{"app.merchant_pages", c.merchants},
		{"app.merchant_items", c.items}, {"app.market_items", c.items},
		{"app.merchant_customers", c.customers}, {"app.orders", c.orders},
		{"app.order_lines", c.lines}, {"app.order_payments", c.payments},
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t\n", r.table, r.n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	_, err := fmt.Fprintf(out, "\n%d orders moved past pending; %d payments "+
		"skipped (method not_defined).\nEvery seller's owner signs in as "+
		"seller-<first 10 of seller_id>@%s\nwith the password %s, e.g.:\n"+
		"  %s\n", c.statuses, c.skippedPayments, sellersDomain,
		MarketplacePassword,
		loginCurl(listen, sellerEmail(first.seller), MarketplacePassword))
	return err
}
