package admin

import "github.com/latchid/latch/internal/admin/pagekit"

// RouteActions lists the admin UI's routes (pattern → action; "" for the
// anonymous sign-in routes), for the role matrix's coverage check.
func RouteActions() map[string]pagekit.Action {
	out := map[string]pagekit.Action{}
	for _, rt := range (&Admin{}).routes() {
		out[rt.Pattern] = rt.Action
	}
	return out
}
