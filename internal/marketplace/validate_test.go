package marketplace

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/internal/apperr"
)

func ptr[T any](v T) *T { return &v }

// field returns the field an invalid_request error names, or "" for any
// other answer.
func field(err error) string {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Invalid || len(ae.Fields) == 0 {
		return ""
	}
	return ae.Fields[0].Field
}

func TestItemTextAndCurrency(t *testing.T) {
	item := func(edit func(*ItemInput)) ItemInput {
		in := ItemInput{SKU: ptr("sku-1"), Title: ptr("Burr grinder"),
			PriceCents: ptr(int64(1000))}
		edit(&in)
		return in
	}
	cases := []struct {
		name string
		in   ItemInput
		want string // the refused field, "" when accepted
	}{
		{"a plain item", item(func(*ItemInput) {}), ""},
		{"a real currency", item(func(in *ItemInput) { in.Currency = ptr("XOF") }), ""},
		{"a made-up currency", item(func(in *ItemInput) { in.Currency = ptr("ZZZ") }), "currency"},
		{"the no-currency code", item(func(in *ItemInput) { in.Currency = ptr("XXX") }), "currency"},
		{"lower case", item(func(in *ItemInput) { in.Currency = ptr("brl") }), "currency"},
		{"NUL in a title", item(func(in *ItemInput) { in.Title = ptr("Burr\x00grinder") }), "title"},
		{"escape in a sku", item(func(in *ItemInput) { in.SKU = ptr("sku\x1b[31m") }), "sku"},
		{"C1 control in a category", item(func(in *ItemInput) { in.Category = ptr("tools\u0085") }), "category"},
		{"line break in a title", item(func(in *ItemInput) { in.Title = ptr("Burr\ngrinder") }), "title"},
		{"line breaks in a description", item(func(in *ItemInput) {
			in.Description = ptr("Conical burrs.\r\n\tStainless steel.")
		}), ""},
		{"a bell in a description", item(func(in *ItemInput) { in.Description = ptr("ring\a") }), "description"},
		{"non-Latin text", item(func(in *ItemInput) { in.Title = ptr("Молотилка 咖啡 مطحنة") }), ""},
		{"a right-to-left mark", item(func(in *ItemInput) { in.Title = ptr("\u200fمطحنة 2") }), ""},
		{"a right-to-left override", item(func(in *ItemInput) { in.Title = ptr("grinder\u202egpj.exe") }), "title"},
		{"an isolate in a description", item(func(in *ItemInput) { in.Description = ptr("a\u2067b") }), "description"},
		{"a line separator in a title", item(func(in *ItemInput) { in.Title = ptr("a\u2028b") }), "title"},
		{"a line separator in a description", item(func(in *ItemInput) { in.Description = ptr("a\u2028b") }), ""},
		{"a byte order mark", item(func(in *ItemInput) { in.Title = ptr("\ufeffkettle") }), "title"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.in.validate(true)
			if got := field(err); got != c.want || (c.want == "" && err != nil) {
				t.Fatalf("refused field %q (err %v), want %q", got, err, c.want)
			}
		})
	}
}

func TestCustomerAddressRefusesControlCharacters(t *testing.T) {
	in := CustomerInput{Name: ptr("Ana\x07 Souza")}
	if got := field(in.validate(false)); got != "name" {
		t.Fatalf("refused field %q, want name", got)
	}
}

func TestStatusPath(t *testing.T) {
	cases := []struct {
		from, to string
		want     string
	}{
		{"pending", "delivered", "processing shipped delivered"},
		{"pending", "canceled", "canceled"},
		{"pending", "unavailable", "unavailable"},
		{"invoiced", "delivered", "shipped delivered"},
		{"delivered", "canceled", ""},
		{"pending", "pending", ""},
		{"pending", "no-such-status", ""},
	}
	for _, c := range cases {
		got := strings.Join(StatusPath(c.from, c.to), " ")
		if got != c.want {
			t.Errorf("%s -> %s: %q, want %q", c.from, c.to, got, c.want)
		}
	}
	// Every step of every path is an allowed transition.
	for from := range OrderTransitions {
		for to := range OrderStatuses {
			at := from
			for _, next := range StatusPath(from, to) {
				if !slices.Contains(OrderTransitions[at], next) {
					t.Fatalf("%s -> %s steps %s -> %s", from, to, at, next)
				}
				at = next
			}
		}
	}
}

func TestPaymentTextIsChecked(t *testing.T) {
	for _, c := range []struct {
		name string
		p    PaymentInput
		want string
	}{
		{"a plain brand", PaymentInput{Method: "pix", Brand: ptr("visa")}, ""},
		{"escape in a brand", PaymentInput{Method: "pix", Brand: ptr("Vi\x1b[2Jsa")}, "payments[0].brand"},
		{"override in a token", PaymentInput{Method: "pix", ProviderToken: ptr("tok\u202e")}, "payments[0].provider_token"},
		{"NUL in a token", PaymentInput{Method: "pix", ProviderToken: ptr("tok\x00")}, "payments[0].provider_token"},
	} {
		err := c.p.validate("payments[0].")
		if got := field(err); got != c.want || (c.want == "" && err != nil) {
			t.Errorf("%s: refused %q (%v), want %q", c.name, got, err, c.want)
		}
	}
}
