package identity_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/testutil"
)

// The typed views later features read: defaults for a bootstrapped tenant,
// and an application's OAuth client with its secret, which never prints.
func TestTypedViews(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		svc := testutil.Services(t, b)
		actor := kit.Actor{Type: kit.ActorSystem}
		tenants, err := svc.Tenancy.Tenants(ctx, kit.AllTenants)
		if err != nil || len(tenants) != 1 {
			t.Fatalf("tenants: %v %v", tenants, err)
		}
		tid := tenants[0].ID
		cfg, err := svc.Tenancy.TenantConfig(ctx, tid)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.PasswordEncryptionConfiguration.EncryptionScheme != "salted-pbkdf2-hmac-sha256" || cfg.PasswordEncryptionConfiguration.EncryptionSchemeFactor != 24000 ||
			cfg.PasswordValidationRules.MinLength != 8 || cfg.PasswordValidationRules.MaxLength != 256 ||
			cfg.JWTConfiguration.TimeToLiveInSeconds != 3600 || cfg.ExternalIdentifierConfiguration.ChangePasswordIDTimeToLiveInSeconds != 600 ||
			cfg.FailedAuthenticationConfiguration.TooManyAttempts != 5 || cfg.Issuer != "acme.com" {
			t.Errorf("default tenant config: %+v", cfg)
		}

		app, err := svc.Tenancy.CreateApplication(ctx, actor, kit.AllTenants, "", kit.Object{"application": kit.Object{
			"name": "Typed", "oauthConfiguration": kit.Object{"authorizedRedirectURLs": []any{"https://t.example/cb"}, "clientSecret": "typed-secret"}}})
		if err != nil {
			t.Fatal(err)
		}
		ac, err := svc.Tenancy.ApplicationConfig(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		oc := ac.OAuthConfiguration
		if ac.TenantID != tid || !ac.Active || oc.ClientID != ac.ID || oc.ClientSecret.Reveal() != "typed-secret" ||
			len(oc.AuthorizedRedirectURLs) != 1 || !ac.LoginConfiguration.RequireAuthentication {
			t.Errorf("application config: %+v", ac)
		}
		if printed := fmt.Sprintf("%v %+v", ac, oc); strings.Contains(printed, "typed-secret") {
			t.Errorf("the client secret prints: %s", printed)
		}
		if _, err := svc.Tenancy.ApplicationConfig(ctx, "3c219e58-ed0e-4b18-ad48-f4f92793ae33"); err == nil {
			t.Errorf("unknown application: no error")
		}
		if _, err := svc.Tenancy.TenantConfig(ctx, tid[:8]); err == nil {
			t.Errorf("malformed tenant id: no error")
		}
	})
}
