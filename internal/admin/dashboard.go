package admin

import (
	"net/http"
	"time"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/model"
)

// The key-safety panel's thresholds.
const (
	expiringWithin = 14 * 24 * time.Hour
	unusedFor      = 90 * 24 * time.Hour
)

type dashboardData struct {
	Users, Applications, Logins24h int
	ShowKeys                       bool
	Keys                           keySafety
}

// keySafety answers "what happens if the initial key is gone?" on one panel.
type keySafety struct {
	Managers []*model.APIKey // full-access key-manager keys
	Expiring []*model.APIKey // expiring within 14 days
	Unused   []*model.APIKey // not used for 90 days
	Total    int
}

// LastManager: exactly one full-access key-manager key is left.
func (k keySafety) LastManager() bool { return len(k.Managers) == 1 }

// NoManager: none is left; `latch recover api-key` is the way back.
func (k keySafety) NoManager() bool { return len(k.Managers) == 0 }

func (a *Admin) dashboard(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	ctx := r.Context()
	rd := a.Svc.Store().Read()
	var d dashboardData
	var err error
	if d.Users, err = rd.CountUsers(ctx); err != nil {
		a.Fail(w, r, s, "count users", err)
		return
	}
	if d.Applications, err = rd.CountApplications(ctx); err != nil {
		a.Fail(w, r, s, "count applications", err)
		return
	}
	now := a.Now()
	if d.Logins24h, err = rd.CountLoginsSince(ctx, now.Add(-24*time.Hour).UnixMilli()); err != nil {
		a.Fail(w, r, s, "count logins", err)
		return
	}
	if pagekit.Allowed(s.Roles, pagekit.ViewAPIKeys) {
		d.ShowKeys = true
		keys, _, err := a.Svc.Access.SearchAPIKeys(ctx, access.AdminCaller(a.Actor(r, s)), access.APIKeySearch{NumberOfResults: access.MaxKeyPageSize}, "")
		if err != nil {
			a.Fail(w, r, s, "list api keys", err)
			return
		}
		d.Keys = assessKeys(keys, now)
	}
	a.Render(w, r, s, http.StatusOK, "dashboard", "Dashboard", "dashboard", d)
}

// assessKeys sorts keys into the panel's lists.
func assessKeys(keys []*model.APIKey, now time.Time) keySafety {
	ms := now.UnixMilli()
	out := keySafety{Total: len(keys)}
	for _, k := range keys {
		if access.IsFullManager(k, ms) {
			out.Managers = append(out.Managers, k)
		}
		if k.ExpirationInstant != nil && *k.ExpirationInstant > ms && *k.ExpirationInstant <= now.Add(expiringWithin).UnixMilli() {
			out.Expiring = append(out.Expiring, k)
		}
		last := k.InsertInstant
		if k.LastUsedInstant != nil {
			last = *k.LastUsedInstant
		}
		if !k.Expired(ms) && last < now.Add(-unusedFor).UnixMilli() {
			out.Unused = append(out.Unused, k)
		}
	}
	return out
}
