package model_test

import (
	"reflect"
	"testing"

	"github.com/latchid/latch/internal/model"
)

func perms(p map[string][]string) model.APIKeyPermissions {
	return model.APIKeyPermissions{Endpoints: p}
}

func TestAPIKeyAllows(t *testing.T) {
	all := &model.APIKey{}
	user := &model.APIKey{Permissions: perms(map[string][]string{"/api/user": {"GET", "POST"}, "/api/system/version": {"GET"}})}
	cases := []struct {
		name           string
		key            *model.APIKey
		family, method string
		want           bool
	}{
		{"every endpoint", all, "/api/anything", "DELETE", true},
		{"listed method", user, "/api/user", "POST", true},
		{"unlisted method", user, "/api/user", "DELETE", false},
		{"HEAD counts as GET", user, "/api/system/version", "HEAD", true},
		{"HEAD without GET", &model.APIKey{Permissions: perms(map[string][]string{"/api/user": {"POST"}})}, "/api/user", "HEAD", false},
		{"unlisted family", user, "/api/tenant", "GET", false},
		{"family prefix is not the family", user, "/api/user/registration", "GET", false},
	}
	for _, c := range cases {
		if got := c.key.Allows(c.family, c.method); got != c.want {
			t.Errorf("%s: Allows(%s, %s) = %v, want %v", c.name, c.family, c.method, got, c.want)
		}
	}
}

func TestAPIKeyExpired(t *testing.T) {
	at := func(ms int64) *int64 { return &ms }
	cases := []struct {
		name    string
		expires *int64
		now     int64
		want    bool
	}{
		{"never expires", nil, 1 << 60, false},
		{"before expiry", at(1000), 999, false},
		{"at expiry: no leeway", at(1000), 1000, true},
		{"after expiry", at(1000), 1001, true},
	}
	for _, c := range cases {
		k := &model.APIKey{ExpirationInstant: c.expires}
		if got := k.Expired(c.now); got != c.want {
			t.Errorf("%s: Expired = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAPIKeyTenants(t *testing.T) {
	cases := []struct {
		name   string
		key    model.APIKey
		want   []string
		global bool
	}{
		{"global", model.APIKey{}, nil, true},
		{"one tenant", model.APIKey{TenantID: "a"}, []string{"a"}, false},
		{"several tenants", model.APIKey{TenantIDs: []string{"a", "b"}}, []string{"a", "b"}, false},
		{"tenantIds wins", model.APIKey{TenantID: "c", TenantIDs: []string{"a", "b"}}, []string{"a", "b"}, false},
	}
	for _, c := range cases {
		if got := c.key.Tenants(); !reflect.DeepEqual(got, c.want) || c.key.Global() != c.global {
			t.Errorf("%s: Tenants = %v, Global = %v", c.name, got, c.key.Global())
		}
	}
}

func TestAPIKeyCovers(t *testing.T) {
	manager := &model.APIKey{KeyManager: true}
	all := &model.APIKey{}
	userRW := &model.APIKey{Permissions: perms(map[string][]string{"/api/user": {"GET", "POST"}})}
	userR := &model.APIKey{Permissions: perms(map[string][]string{"/api/user": {"GET"}})}
	userRApp := &model.APIKey{Permissions: perms(map[string][]string{"/api/user": {"GET"}, "/api/application": {"GET"}})}
	emptyList := &model.APIKey{Permissions: perms(map[string][]string{"/api/user": {}})}
	tenantA := &model.APIKey{TenantID: "a"}
	tenantB := &model.APIKey{TenantID: "b"}
	tenantsAB := &model.APIKey{TenantIDs: []string{"a", "b"}}
	managerA := &model.APIKey{KeyManager: true, TenantID: "a"}
	managerL1 := &model.APIKey{KeyManager: true, IPAccessControlListID: "l1"}
	userRL1 := &model.APIKey{Permissions: userR.Permissions, IPAccessControlListID: "l1"}
	userRL2 := &model.APIKey{Permissions: userR.Permissions, IPAccessControlListID: "l2"}
	cases := []struct {
		name       string
		k, other   *model.APIKey
		wantCovers bool
	}{
		{"manager covers manager", manager, manager, true},
		{"manager covers plain", manager, all, true},
		{"plain does not cover manager", all, manager, false},
		{"all endpoints cover some", all, userRW, true},
		{"some do not cover all endpoints", userRW, all, false},
		{"superset of methods", userRW, userR, true},
		{"subset of methods", userR, userRW, false},
		{"missing endpoint", userR, userRApp, false},
		{"extra endpoint", userRApp, userR, true},
		{"an empty method list asks for nothing", userR, emptyList, true},
		{"global covers a tenant", all, tenantA, true},
		{"a tenant does not cover global", tenantA, all, false},
		{"same tenant", tenantA, tenantA, true},
		{"other tenant", tenantA, tenantB, false},
		{"two tenants cover one", tenantsAB, tenantA, true},
		{"one tenant does not cover two", tenantA, tenantsAB, false},
		{"tenant-scoped manager does not cover a global manager", managerA, manager, false},
		{"global manager covers a tenant-scoped manager", manager, managerA, true},
		{"unbound covers bound", manager, userRL1, true},
		{"bound covers the same list", managerL1, userRL1, true},
		{"bound does not cover unbound", managerL1, userR, false},
		{"bound does not cover another list", managerL1, userRL2, false},
		{"bound covers itself", managerL1, managerL1, true},
	}
	for _, c := range cases {
		if got := c.k.Covers(c.other); got != c.wantCovers {
			t.Errorf("%s: Covers = %v, want %v", c.name, got, c.wantCovers)
		}
	}
}

func TestNormalizePermissions(t *testing.T) {
	got := model.NormalizePermissions(map[string][]string{
		"/api/user":        {"post", " GET ", "POST", ""},
		"/api/application": {},
		"/api/tenant":      {" "},
	})
	want := map[string][]string{"/api/user": {"GET", "POST"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NormalizePermissions = %v, want %v", got, want)
	}
	if got := model.NormalizePermissions(nil); got == nil || len(got) != 0 {
		t.Errorf("NormalizePermissions(nil) = %#v, want an empty map", got)
	}
}
