package model

import (
	"net/netip"
	"testing"
)

func TestIPAccessControlListAllows(t *testing.T) {
	e := func(action, start, end string) IPAccessControlEntry {
		return IPAccessControlEntry{Action: action, StartIPAddress: start, EndIPAddress: end}
	}
	// FusionAuth's two documented examples.
	blockAllButRange := &IPAccessControlList{Entries: []IPAccessControlEntry{
		e("Block", "*", ""), e("Allow", "71.205.92.217", "76.104.251.50")}}
	blockTwoRanges := &IPAccessControlList{Entries: []IPAccessControlEntry{
		e("Allow", "*", ""), e("Block", "76.104.0.0", "76.104.255.255"), e("Block", "71.205.0.0", "71.205.255.255")}}
	v6 := &IPAccessControlList{Entries: []IPAccessControlEntry{
		e("Block", "*", ""), e("Allow", "2001:db8::", "2001:db8::ffff"), e("Allow", "::1", "")}}
	mappedEntry := &IPAccessControlList{Entries: []IPAccessControlEntry{e("Block", "*", ""), e("Allow", "::ffff:10.0.0.1", "")}}
	firstMatchWins := &IPAccessControlList{Entries: []IPAccessControlEntry{
		e("Allow", "*", ""), e("Block", "10.0.0.0", "10.255.255.255"), e("Allow", "10.0.0.5", "")}}
	defaultLast := &IPAccessControlList{Entries: []IPAccessControlEntry{e("Allow", "10.0.0.5", ""), e("Block", "*", "")}}
	noDefault := &IPAccessControlList{Entries: []IPAccessControlEntry{e("Block", "10.0.0.1", "")}}
	lowerCase := &IPAccessControlList{Entries: []IPAccessControlEntry{e("block", "*", ""), e("allow", " 10.0.0.1 ", "")}}
	broken := &IPAccessControlList{Entries: []IPAccessControlEntry{e("Allow", "*", ""), e("Block", "10.0.0.1", "nonsense"), e("Block", "bad", "")}}

	cases := []struct {
		name string
		acl  *IPAccessControlList
		addr string
		want bool
	}{
		{"inside the allowed range", blockAllButRange, "72.1.2.3", true},
		{"range start is inclusive", blockAllButRange, "71.205.92.217", true},
		{"range end is inclusive", blockAllButRange, "76.104.251.50", true},
		{"just below the range", blockAllButRange, "71.205.92.216", false},
		{"just above the range", blockAllButRange, "76.104.251.51", false},
		{"IPv6 against a v4-only list: the default", blockAllButRange, "2001:db8::1", false},
		{"in a blocked range", blockTwoRanges, "76.104.9.9", false},
		{"in the other blocked range", blockTwoRanges, "71.205.255.255", false},
		{"outside both: the default", blockTwoRanges, "8.8.8.8", true},
		{"v4-mapped address in a v4 range", blockTwoRanges, "::ffff:76.104.9.9", false},
		{"IPv6 inside the range", v6, "2001:db8::1", true},
		{"IPv6 just above the range", v6, "2001:db8::1:0", false},
		{"IPv6 single address", v6, "::1", true},
		{"v4 against a v6 list: the default", v6, "127.0.0.1", false},
		{"v4-mapped entry matches the v4 address", mappedEntry, "10.0.0.1", true},
		{"v4-mapped entry matches the v4-mapped address", mappedEntry, "::ffff:10.0.0.1", true},
		{"v4-mapped entry, another address", mappedEntry, "10.0.0.2", false},
		{"first matching entry decides", firstMatchWins, "10.0.0.5", false},
		{"the default entry may come last", defaultLast, "10.0.0.5", true},
		{"the default entry may come last, other address", defaultLast, "10.0.0.6", false},
		{"no default entry: blocked", noDefault, "8.8.8.8", false},
		{"no default entry, listed as blocked", noDefault, "10.0.0.1", false},
		{"empty list: blocked", &IPAccessControlList{}, "8.8.8.8", false},
		{"actions in any case, addresses trimmed", lowerCase, "10.0.0.1", true},
		{"actions in any case, default", lowerCase, "10.0.0.2", false},
		{"unparsable entries match nothing", broken, "10.0.0.1", true},
	}
	for _, c := range cases {
		if got := c.acl.Allows(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("%s: Allows(%s) = %v, want %v", c.name, c.addr, got, c.want)
		}
	}
}
