package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// dataInfo is what the bench database held when the run started.
type dataInfo struct {
	Label     string
	Merchants int64
	Customers int64
	Orders    int64
	Listings  int64
	AuditRows int64
	Server    string
}

func (d *dataInfo) String() string {
	return fmt.Sprintf("%s: %d merchants, %d customers, %d orders, "+
		"%d market listings, %d audit rows", d.Label, d.Merchants,
		d.Customers, d.Orders, d.Listings, d.AuditRows)
}

func dataStats(ctx context.Context, admin *pgx.Conn, label string) (*dataInfo, error) {
	d := &dataInfo{Label: label}
	err := admin.QueryRow(ctx, `
select (select count(*) from app.merchants),
       (select count(*) from app.merchant_customers),
       (select count(*) from app.orders),
       (select count(*) from app.market_items),
       (select count(*) from security.customer_access_audit),
       current_setting('server_version')`).Scan(&d.Merchants, &d.Customers,
		&d.Orders, &d.Listings, &d.AuditRows, &d.Server)
	if err != nil {
		return nil, fmt.Errorf("describe the data: %w", err)
	}
	return d, nil
}
