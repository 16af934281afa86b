package model

import (
	"net/netip"
	"strings"
)

// ACL actions.
const (
	ACLAllow = "Allow"
	ACLBlock = "Block"
)

// Allows reports whether addr may pass. Ranges are checked in order and the
// first that contains addr decides; otherwise the "*" entry's action decides;
// with no "*" entry an address outside every range is blocked (deny by default).
func (l *IPAccessControlList) Allows(addr netip.Addr) bool {
	addr = addr.Unmap()
	def := ACLBlock
	for _, e := range l.Entries {
		if strings.TrimSpace(e.StartIPAddress) == "*" {
			def = e.Action
			continue
		}
		if e.contains(addr) {
			return strings.EqualFold(e.Action, ACLAllow)
		}
	}
	return strings.EqualFold(def, ACLAllow)
}

func (e IPAccessControlEntry) contains(addr netip.Addr) bool {
	start, err := netip.ParseAddr(strings.TrimSpace(e.StartIPAddress))
	if err != nil {
		return false
	}
	start = start.Unmap()
	end := start
	if e.EndIPAddress != "" {
		if end, err = netip.ParseAddr(strings.TrimSpace(e.EndIPAddress)); err != nil {
			return false
		}
		end = end.Unmap()
	}
	if start.BitLen() != addr.BitLen() || end.BitLen() != addr.BitLen() {
		return false
	}
	return start.Compare(addr) <= 0 && addr.Compare(end) <= 0
}
