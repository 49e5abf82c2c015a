//go:build faults

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// signIn logs in every owner and manager the demo seed printed, and finds
// the merchant, customers and items each of them works with.
func signIn(ctx context.Context, w *world) ([]principal, error) {
	logins, err := demoLogins(filepath.Join(w.dir, "seed.log"))
	if err != nil {
		return nil, err
	}
	var who []principal
	for email, password := range logins {
		p, err := discover(ctx, w.apiURL, email, password)
		if err != nil {
			return nil, fmt.Errorf("sign in %s: %w", email, err)
		}
		who = append(who, p)
	}
	if len(who) == 0 {
		return nil, fmt.Errorf("no owner or manager in the seed's output")
	}
	return who, nil
}

// demoLogins reads the table `rampart seed demo` prints (EMAIL PASSWORD
// ROLE MERCHANT) and keeps the owners and managers.
func demoLogins(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && strings.Contains(fields[0], "@") &&
			(fields[2] == "owner" || fields[2] == "manager") {
			out[fields[0]] = fields[1]
		}
	}
	return out, sc.Err()
}

func discover(ctx context.Context, base, email, password string) (principal, error) {
	p := principal{email: email}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err := call(ctx, "POST", base+"/v1/auth/login", "",
		map[string]string{"email": email, "password": password}, &tok)
	if err != nil {
		return p, err
	}
	p.token = tok.AccessToken

	var merchants struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := call(ctx, "GET", base+"/v1/merchants", p.token, nil, &merchants); err != nil {
		return p, err
	}
	if len(merchants.Data) == 0 {
		return p, fmt.Errorf("belongs to no merchant")
	}
	p.merchant = merchants.Data[0].ID
	mpath := base + "/v1/merchants/" + p.merchant

	var customers struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := call(ctx, "GET", mpath+"/customers?limit=100", p.token, nil, &customers); err != nil {
		return p, err
	}
	for _, c := range customers.Data {
		p.customers = append(p.customers, c.ID)
	}
	var items struct {
		Data []item `json:"data"`
	}
	if err := call(ctx, "GET", mpath+"/items?limit=100", p.token, nil, &items); err != nil {
		return p, err
	}
	p.items = items.Data
	if len(p.customers) == 0 || len(p.items) == 0 {
		return p, fmt.Errorf("merchant %s has no customers or items", p.merchant)
	}
	return p, nil
}

// call sends a JSON request and decodes a 2xx answer into out.
func call(ctx context.Context, method, url, token string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		_ = json.NewEncoder(&body).Encode(in)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, b.String())
	}
	return json.NewDecoder(res.Body).Decode(out)
}
