package ratelimit

import "net/netip"

// invalidIP is the one key every unparsable address shares, so garbage
// cannot mint fresh budgets.
const invalidIP = "ip:invalid"

// IPKey returns the budget key of a client address, with or without a
// port. IPv4 addresses (including IPv4-mapped IPv6) are keyed as they are;
// IPv6 addresses are keyed by their /64, which one subscriber usually
// holds whole. Anything unparsable yields "ip:invalid".
func IPKey(addr string) string {
	a, ok := parseAddr(addr)
	if !ok {
		return invalidIP
	}
	if a.Is4() {
		return "ip:" + a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return invalidIP
	}
	return "ip:" + p.String()
}

func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap(), true
}

// UserKey returns the budget key of a user id.
func UserKey(id string) string { return "user:" + id }

// MerchantKey returns the budget key of a merchant id.
func MerchantKey(id string) string { return "merchant:" + id }

// Key returns the key a class (or policy) counts scope's budget under, so
// the same user has a separate budget in every class.
func Key(class, scope string) string { return class + ":" + scope }
