package seed

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The Olist dataset's files, as published.
const (
	fileSellers    = "olist_sellers_dataset.csv"
	fileProducts   = "olist_products_dataset.csv"
	fileCustomers  = "olist_customers_dataset.csv"
	fileOrders     = "olist_orders_dataset.csv"
	fileItems      = "olist_order_items_dataset.csv"
	filePayments   = "olist_order_payments_dataset.csv"
	fileCategories = "product_category_name_translation.csv"
)

var olistFiles = []string{fileSellers, fileProducts, fileCustomers,
	fileOrders, fileItems, filePayments, fileCategories}

// olistColumns are the columns read from each file.
var olistColumns = map[string][]string{
	fileSellers: {"seller_id", "seller_city", "seller_state"},
	fileProducts: {"product_id", "product_category_name", "product_weight_g",
		"product_length_cm", "product_height_cm", "product_width_cm"},
	fileCustomers: {"customer_id", "customer_unique_id",
		"customer_zip_code_prefix", "customer_city", "customer_state"},
	fileOrders: {"order_id", "customer_id", "order_status"},
	fileItems: {"order_id", "product_id", "seller_id", "price",
		"freight_value"},
	filePayments: {"order_id", "payment_type", "payment_installments",
		"payment_value"},
	fileCategories: {"product_category_name",
		"product_category_name_english"},
}

type olistSeller struct {
	id, city, state string
}

type olistProduct struct {
	id, category                  string
	weight, length, height, width string
}

type olistCustomer struct {
	uniqueID, zip, city, state string
}

type olistOrder struct {
	id, customerID, status string
}

type olistItem struct {
	orderID, productID, sellerID string
	price, freight               int64 // cents
}

type olistPayment struct {
	method       string
	installments int
	amount       int64 // cents
}

// dataset is the Olist dataset in memory (about 10 MB of CSV).
type dataset struct {
	sellers    []olistSeller
	products   map[string]olistProduct
	categories map[string]string // Portuguese name to English
	customers  map[string]olistCustomer
	orders     []olistOrder
	items      []olistItem
	payments   map[string][]olistPayment // by order id, in sequence order
}

// loadDataset reads every file of the dataset in dir. A missing file is
// named in the error before anything is read.
func loadDataset(dir string) (*dataset, error) {
	for _, name := range olistFiles {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("marketplace dataset: %s is missing "+
					"from %s", name, dir)
			}
			return nil, fmt.Errorf("marketplace dataset: %w", err)
		}
	}
	ds := &dataset{}
	loaders := []func(string) error{ds.loadSellers, ds.loadProducts,
		ds.loadCategories, ds.loadCustomers, ds.loadOrders, ds.loadItems,
		ds.loadPayments}
	for _, load := range loaders {
		if err := load(dir); err != nil {
			return nil, fmt.Errorf("marketplace dataset: %w", err)
		}
	}
	return ds, nil
}

func (ds *dataset) loadSellers(dir string) error {
	return readCSV(dir, fileSellers, func(r record) error {
		s := olistSeller{id: r.get("seller_id"), city: r.get("seller_city"),
			state: r.get("seller_state")}
		if err := checkID(s.id); err != nil {
			return err
		}
		ds.sellers = append(ds.sellers, s)
		return nil
	})
}

func (ds *dataset) loadProducts(dir string) error {
	ds.products = map[string]olistProduct{}
	return readCSV(dir, fileProducts, func(r record) error {
		p := olistProduct{id: r.get("product_id"),
			category: r.get("product_category_name"),
			weight:   r.get("product_weight_g"),
			length:   r.get("product_length_cm"),
			height:   r.get("product_height_cm"),
			width:    r.get("product_width_cm")}
		ds.products[p.id] = p
		return checkID(p.id)
	})
}

func (ds *dataset) loadCategories(dir string) error {
	ds.categories = map[string]string{}
	return readCSV(dir, fileCategories, func(r record) error {
		ds.categories[r.get("product_category_name")] =
			r.get("product_category_name_english")
		return nil
	})
}

func (ds *dataset) loadCustomers(dir string) error {
	ds.customers = map[string]olistCustomer{}
	return readCSV(dir, fileCustomers, func(r record) error {
		c := olistCustomer{uniqueID: r.get("customer_unique_id"),
			zip:  r.get("customer_zip_code_prefix"),
			city: r.get("customer_city"), state: r.get("customer_state")}
		ds.customers[r.get("customer_id")] = c
		return checkID(c.uniqueID)
	})
}

func (ds *dataset) loadOrders(dir string) error {
	return readCSV(dir, fileOrders, func(r record) error {
		o := olistOrder{id: r.get("order_id"),
			customerID: r.get("customer_id"), status: r.get("order_status")}
		if _, ok := ds.customers[o.customerID]; !ok {
			return fmt.Errorf("order %s: unknown customer %s", o.id,
				o.customerID)
		}
		ds.orders = append(ds.orders, o)
		return checkID(o.id)
	})
}

func (ds *dataset) loadItems(dir string) error {
	return readCSV(dir, fileItems, func(r record) error {
		it := olistItem{orderID: r.get("order_id"),
			productID: r.get("product_id"), sellerID: r.get("seller_id")}
		var err1, err2 error
		it.price, err1 = parseCents(r.get("price"))
		it.freight, err2 = parseCents(r.get("freight_value"))
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if _, ok := ds.products[it.productID]; !ok {
			return fmt.Errorf("unknown product %s", it.productID)
		}
		ds.items = append(ds.items, it)
		return nil
	})
}

func (ds *dataset) loadPayments(dir string) error {
	ds.payments = map[string][]olistPayment{}
	return readCSV(dir, filePayments, func(r record) error {
		var p olistPayment
		var err1, err2 error
		p.method = r.get("payment_type")
		p.installments, err1 = strconv.Atoi(r.get("payment_installments"))
		p.amount, err2 = parseCents(r.get("payment_value"))
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		id := r.get("order_id")
		ds.payments[id] = append(ds.payments[id], p)
		return nil
	})
}

// record is one CSV row with its columns looked up by header name.
type record struct {
	cols map[string]int
	row  []string
}

func (r record) get(col string) string { return r.row[r.cols[col]] }

// readCSV calls fn for each row of dir/name after checking that the header
// holds every column olistColumns lists for it.
func readCSV(dir, name string, fn func(record) error) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()

	cr := csv.NewReader(f)
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: read header: %w", name, err)
	}
	cols := make(map[string]int, len(header))
	for i, h := range header {
		cols[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	for _, c := range olistColumns[name] {
		if _, ok := cols[c]; !ok {
			return fmt.Errorf("%s: column %s is missing", name, c)
		}
	}
	for line := 2; ; line++ {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := fn(record{cols: cols, row: row}); err != nil {
			return fmt.Errorf("%s line %d: %w", name, line, err)
		}
	}
}

// checkID accepts the dataset's ids: 32 hexadecimal digits.
func checkID(id string) error {
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("malformed id %q", id)
	}
	return nil
}

// parseCents turns a money value such as "99.90" into cents.
func parseCents(s string) (int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0, fmt.Errorf("malformed amount %q", s)
	}
	return int64(math.Round(f * 100)), nil
}
