package httpapi

import (
	"net/netip"
	"testing"
)

func TestBlockableRefusesSweepingBlocks(t *testing.T) {
	const admin = "198.51.100.7"
	for network, ok := range map[string]bool{
		"0.0.0.0/0":               false,
		"10.0.0.0/7":              false,
		"10.0.0.0/8":              true,
		"203.0.113.0/24":          true,
		"198.51.100.0/24":         false, // holds the admin
		"198.51.100.7/32":         false,
		"::/0":                    false,
		"2001:db8::/31":           false,
		"2001:db8::/32":           true,
		"::ffff:0.0.0.0/96":       false, // all of IPv4, mapped
		"::ffff:10.0.0.0/104":     true,
		"::ffff:198.51.100.0/120": false,
	} {
		err := blockable(netip.MustParsePrefix(network).Masked(), admin)
		if (err == nil) != ok {
			t.Errorf("blockable(%s) = %v, want allowed %v", network, err, ok)
		}
	}
}
