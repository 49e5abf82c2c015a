package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/marketplace"
)

// Demo loads a small demo through the API's code paths: three merchants,
// each with an owner, a manager and a staff account, a published page,
// eight items (six of them on the market), ten customers and ten orders;
// and one account that belongs to no merchant. It then prints how to sign
// in.
//
// Demo is idempotent: a merchant whose owner can already sign in and see it
// is left alone, so when the first owner's merchant and the others exist it
// only prints "demo data already present" and the logins. A demo account
// that exists with another password is an error.
func Demo(ctx context.Context, d Deps, out io.Writer) error {
	created := 0
	secrets := map[string]string{}
	for i := range demoMerchants {
		m := &demoMerchants[i]
		secret, err := seedDemoMerchant(ctx, d, m)
		if err != nil {
			return fmt.Errorf("seed demo %s: %w", m.slug, err)
		}
		if secret != "" {
			created++
			secrets[m.email(demoOwner)] = secret
		}
	}
	err := d.Auth.Signup(ctx, meta("seed-demo-shopper"), demoShopperEmail,
		demoShopper.password)
	if err != nil {
		return fmt.Errorf("seed demo: sign up %s: %w", demoShopperEmail, err)
	}

	if created == 0 {
		fmt.Fprintln(out, "demo data already present")
	} else {
		fmt.Fprintf(out, "demo data loaded: %d merchants\n", created)
	}
	if err := printDemoLogins(out, d.Listen); err != nil {
		return err
	}
	return printDemoFactors(out, secrets)
}

// printDemoFactors shows the TOTP secrets the seed enrolled for the demo
// owners, once, so a demo can reach aal2 (reveal, export, members).
func printDemoFactors(out io.Writer, secrets map[string]string) error {
	if len(secrets) == 0 {
		return nil
	}
	fmt.Fprintln(out, "\nDemo owners have a TOTP second factor (add the secret to an "+
		"authenticator app, then POST /v1/auth/mfa/totp/verify {\"code\":...}):")
	for _, m := range demoMerchants {
		if s, ok := secrets[m.email(demoOwner)]; ok {
			if _, err := fmt.Fprintf(out, "  %-40s %s\n", m.email(demoOwner), s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *demoMerchant) email(r demoRole) string {
	return r.role + "@" + m.slug + "." + demoDomain
}

// seedDemoMerchant creates m unless its owner already sees it. The owner
// enrols a TOTP factor first, since adding members needs a second factor;
// it returns that factor's secret when it created the merchant.
func seedDemoMerchant(ctx context.Context, d Deps, m *demoMerchant) (secret string, err error) {
	reqID := "seed-demo-" + m.slug
	p, err := signInOrRegister(ctx, d, reqID, m.email(demoOwner),
		demoOwner.password)
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, signOut(ctx, d, reqID, p)) }()

	var exists bool
	err = asUser(ctx, d, p, reqID, func(q db.Querier) error {
		found, err := findMerchant(ctx, q, m.slug)
		exists = found != nil
		return err
	})
	if err != nil || exists {
		return "", err
	}

	for _, r := range []demoRole{demoManager, demoStaff} {
		if err := d.Auth.Signup(ctx, meta(reqID), m.email(r), r.password); err != nil {
			return "", fmt.Errorf("sign up %s: %w", m.email(r), err)
		}
	}
	secret, err = enrolFactor(ctx, d, p, reqID)
	if err != nil {
		return "", err
	}
	invited := map[string]marketplace.Invitation{}
	err = asUser(ctx, d, p, reqID, func(q db.Querier) error {
		return buildDemoMerchant(ctx, d.Vault, q, m, invited)
	})
	if err != nil {
		return "", err
	}
	for _, r := range []demoRole{demoManager, demoStaff} {
		inv := invited[m.email(r)]
		if err := acceptDemoInvitation(ctx, d, reqID, m.email(r), r.password, inv); err != nil {
			return "", fmt.Errorf("%s joins: %w", r.role, err)
		}
	}
	return secret, nil
}

// acceptDemoInvitation signs in as a demo member and accepts the
// invitation with the token the owner passed on, as the member would in
// the API.
func acceptDemoInvitation(ctx context.Context, d Deps, reqID, email, pw string, inv marketplace.Invitation) (err error) {
	p, err := signIn(ctx, d, reqID, email, pw)
	if err != nil {
		return fmt.Errorf("sign in %s: %w", email, err)
	}
	defer func() { err = errors.Join(err, signOut(ctx, d, reqID, p)) }()
	return asUser(ctx, d, p, reqID+"-join", func(q db.Querier) error {
		_, err := marketplace.AcceptInvitation(ctx, q, inv.ID, inv.Token)
		return err
	})
}

// buildDemoMerchant creates the merchant, invites its members (into
// invited, by email), and creates its page, items, customers and orders,
// as its owner, in one transaction.
func buildDemoMerchant(ctx context.Context, v *marketplace.Vault, q db.Querier, m *demoMerchant, invited map[string]marketplace.Invitation) error {
	mer, err := marketplace.CreateMerchant(ctx, q,
		marketplace.MerchantInput{Name: &m.name, Slug: &m.slug})
	if err != nil {
		return fmt.Errorf("create merchant: %w", err)
	}
	for _, r := range []demoRole{demoManager, demoStaff} {
		inv, err := marketplace.Invite(ctx, q, mer.ID, m.email(r), r.role)
		if err != nil {
			return fmt.Errorf("invite %s: %w", r.role, err)
		}
		invited[m.email(r)] = inv
	}
	if err := publishDemoPage(ctx, q, mer.ID, m); err != nil {
		return err
	}

	items, err := createDemoItems(ctx, q, mer.ID, m)
	if err != nil {
		return err
	}
	customers, err := createDemoCustomers(ctx, v, q, mer.ID)
	if err != nil {
		return err
	}
	return createDemoOrders(ctx, v, q, mer.ID, m, items, customers)
}

func publishDemoPage(ctx context.Context, q db.Querier, merchantID uuid.UUID, m *demoMerchant) error {
	email := ptr("contact@" + m.slug + "." + demoDomain)
	phone := ptr(m.contactPhone)
	_, err := marketplace.UpdatePage(ctx, q, merchantID, marketplace.PageInput{
		Description:  &m.description,
		ContactEmail: &email,
		ContactPhone: &phone,
		Published:    ptr(true),
	})
	if err != nil {
		return fmt.Errorf("publish page: %w", err)
	}
	return nil
}

func createDemoItems(ctx context.Context, q db.Querier, merchantID uuid.UUID, m *demoMerchant) ([]marketplace.Item, error) {
	items := make([]marketplace.Item, 0, len(m.items))
	for i, it := range m.items {
		item, err := marketplace.CreateItem(ctx, q, merchantID,
			marketplace.ItemInput{
				SKU:        ptr(fmt.Sprintf("%s-%03d", m.skuPrefix, i+1)),
				Title:      &it.title,
				Category:   &m.category,
				PriceCents: &it.price,
				Stock:      ptr(int32(10 + 5*i)),
				Published:  ptr(i < demoPublished),
			})
		if err != nil {
			return nil, fmt.Errorf("create item %q: %w", it.title, err)
		}
		if i < demoListed {
			if _, err := marketplace.ListItem(ctx, q, merchantID, item.ID); err != nil {
				return nil, fmt.Errorf("list item %q: %w", it.title, err)
			}
		}
		items = append(items, item)
	}
	return items, nil
}

func createDemoCustomers(ctx context.Context, v *marketplace.Vault, q db.Querier, merchantID uuid.UUID) ([]marketplace.Customer, error) {
	out := make([]marketplace.Customer, 0, len(demoPeople))
	for j := range demoPeople {
		c, err := v.CreateCustomer(ctx, q, merchantID, demoCustomer(j))
		if err != nil {
			return nil, fmt.Errorf("create customer %d: %w", j+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// demoCustomer is the j-th demo person, with an invented address and a
// phone number in the range reserved for fiction.
func demoCustomer(j int) marketplace.CustomerInput {
	name := demoPeople[j]
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@" +
		demoDomain
	return marketplace.CustomerInput{
		Name:    &name,
		Email:   &email,
		Phone:   ptr(fmt.Sprintf("+1 202 555 01%02d", 10+j)),
		Address: demoAddress(j),
	}
}

func demoAddress(j int) *marketplace.Address {
	return &marketplace.Address{
		Street: fmt.Sprintf("%d Example Street", 10+7*j),
		City:   "Sampleton",
		State:  "EX",
		Zip:    fmt.Sprintf("00%03d", j+1),
	}
}

func createDemoOrders(ctx context.Context, v *marketplace.Vault, q db.Querier, merchantID uuid.UUID, m *demoMerchant, items []marketplace.Item, customers []marketplace.Customer) error {
	for j, c := range customers {
		o, err := v.CreateOrder(ctx, q, merchantID, demoOrder(j, m, items, c.ID))
		if err != nil {
			return fmt.Errorf("create order %d: %w", j+1, err)
		}
		status := demoStatuses[j%len(demoStatuses)]
		if status == "pending" {
			continue
		}
		if err := advanceOrder(ctx, q, merchantID, o.ID, status); err != nil {
			return fmt.Errorf("set order %d status: %w", j+1, err)
		}
	}
	return nil
}

// demoOrder is customer j's order: one to three lines of published items,
// freight on the first line, and one payment of the whole amount.
func demoOrder(j int, m *demoMerchant, items []marketplace.Item, customerID uuid.UUID) marketplace.OrderInput {
	var lines []marketplace.LineInput
	var total int64
	for k := range 1 + j%3 {
		it := items[(j+2*k)%demoPublished]
		qty := int32(1 + (j+k)%2)
		var freight int64
		if k == 0 {
			freight = 990
		}
		lines = append(lines, marketplace.LineInput{ItemID: &it.ID,
			Quantity: qty, FreightCents: freight})
		total += int64(qty)*it.PriceCents + freight
	}
	return marketplace.OrderInput{
		CustomerID:      &customerID,
		ExternalRef:     ptr(fmt.Sprintf("%s-%04d", m.skuPrefix, 1001+j)),
		ShippingAddress: demoAddress(j),
		Lines:           lines,
		Payments:        []marketplace.PaymentInput{demoPayment(j, total)},
	}
}

// demoPayment pays by card (brand and last four digits only), Pix or
// boleto.
func demoPayment(j int, amount int64) marketplace.PaymentInput {
	p := marketplace.PaymentInput{AmountCents: amount}
	switch j % 3 {
	case 0:
		card := demoCards[j/3%len(demoCards)]
		p.Method, p.Brand, p.Last4 = "credit_card", &card.brand, &card.last4
		p.Installments = ptr(int32(1 + j%4))
	case 1:
		p.Method = "pix"
	default:
		p.Method = "boleto"
	}
	return p
}

func printDemoLogins(out io.Writer, listen string) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nEMAIL\tPASSWORD\tROLE\tMERCHANT")
	for _, m := range demoMerchants {
		for _, r := range []demoRole{demoOwner, demoManager, demoStaff} {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s (%s)\n", m.email(r), r.password,
				r.role, m.name, m.slug)
		}
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", demoShopperEmail,
		demoShopper.password, "-", "none")
	if err := tw.Flush(); err != nil {
		return err
	}

	first := demoMerchants[0]
	_, err := fmt.Fprintf(out, "\nSign in:\n  %s\n",
		loginCurl(listen, first.email(demoOwner), demoOwner.password))
	return err
}

// enrolFactor enrols and verifies a TOTP factor for p, which lifts p's
// session to aal2, as a person would with an authenticator app.
func enrolFactor(ctx context.Context, d Deps, p *auth.Principal, reqID string) (string, error) {
	var secret string
	err := asUser(ctx, d, p, reqID+"-mfa", func(q db.Querier) error {
		e, err := d.MFA.Enroll(ctx, q)
		if err != nil {
			return err
		}
		code, err := totp.GenerateCode(e.Secret, time.Now())
		if err != nil {
			return err
		}
		secret = e.Secret
		_, err = d.MFA.Verify(ctx, q, &e.FactorID, code)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("enrol second factor: %w", err)
	}
	return secret, nil
}
