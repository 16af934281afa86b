package model

// LoginTheme is a tenant's look of the hosted pages (sign in, registration,
// consent, device, two-factor): a Latch extension of the tenant object
// (tenant.loginTheme), since FusionAuth's FreeMarker themes are out of scope.
type LoginTheme struct {
	// ProductName replaces "Latch" in the pages' header, titles and footer.
	ProductName string `json:"productName,omitempty"`
	// LogoURL is an https image shown in the header (its origin is allowed
	// in the pages' img-src).
	LogoURL string `json:"logoURL,omitempty"`
	// PrimaryColor is a hex colour (#rgb or #rrggbb) for buttons and focus.
	PrimaryColor string `json:"primaryColor,omitempty"`
	// CustomCSS is appended to the pages' stylesheet (served as its own file,
	// so the pages keep a CSP without inline style).
	CustomCSS string `json:"customCSS,omitempty"`
	// Messages override page texts by key (ThemeMessageKeys).
	Messages map[string]string `json:"messages,omitempty"`
}

// ThemeMessageKeys are the page texts a theme may override.
var ThemeMessageKeys = []string{"signInTitle", "signInLead", "signInButton", "registerTitle", "registerButton", "passwordlessLink", "passwordlessTitle", "passwordlessButton", "footer"}

// Theme limits.
const (
	MaxThemeCSSLength     = 32 << 10
	MaxThemeMessageLength = 500
	MaxThemeNameLength    = 100
)
