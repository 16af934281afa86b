package model

import (
	"slices"
	"strings"
)

// EmailTemplate is FusionAuth's EmailTemplate. Its templates are Go
// templates (text/template for the subject and text, html/template for the
// HTML) over FusionAuth's variable names: {{.user.email}}, not ${user.email}.
type EmailTemplate struct {
	ID                     string            `json:"id,omitempty"`
	Name                   string            `json:"name"`
	DefaultFromName        string            `json:"defaultFromName,omitempty"`
	DefaultHTMLTemplate    string            `json:"defaultHtmlTemplate"`
	DefaultSubject         string            `json:"defaultSubject"`
	DefaultTextTemplate    string            `json:"defaultTextTemplate"`
	FromEmail              string            `json:"fromEmail,omitempty"`
	LocalizedFromNames     map[string]string `json:"localizedFromNames,omitempty"`
	LocalizedHTMLTemplates map[string]string `json:"localizedHtmlTemplates,omitempty"`
	LocalizedSubjects      map[string]string `json:"localizedSubjects,omitempty"`
	LocalizedTextTemplates map[string]string `json:"localizedTextTemplates,omitempty"`
	InsertInstant          int64             `json:"insertInstant,omitempty"`
	LastUpdateInstant      int64             `json:"lastUpdateInstant,omitempty"`
}

// Email is a rendered message (FusionAuth's Email, as previews return it).
type Email struct {
	From     EmailAddress   `json:"from"`
	To       []EmailAddress `json:"to"`
	Subject  string         `json:"subject"`
	Text     string         `json:"text"`
	HTML     string         `json:"html"`
	TenantID string         `json:"-"`
}

// EmailAddress is an address with an optional display name.
type EmailAddress struct {
	Address string `json:"address"`
	Display string `json:"display,omitempty"`
}

// ownMailHeaders are the headers the mailer writes itself; a tenant's
// additionalHeaders may not replace them.
var ownMailHeaders = []string{"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
	"content-type", "content-transfer-encoding", "sender", "reply-to", "return-path"}

// ValidMailHeader reports whether name: value may be added to a message: a
// header name of letters, digits and hyphens that is not one of the
// message's own, and a value on one line (no header injection).
func ValidMailHeader(name, value string) bool {
	if name == "" || len(name) > 100 || len(value) > 1000 || strings.ContainsAny(value, "\r\n\x00") {
		return false
	}
	for _, r := range name {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return !slices.Contains(ownMailHeaders, strings.ToLower(name))
}

// The ids of the default email templates the Default tenant names from its
// creation (internal/email creates the templates; FusionAuth generates
// these ids per install, Latch fixes them).
const (
	DefaultVerificationEmailTemplateID   = "7fa81426-42a9-4eb2-ac09-73c044d410b1"
	DefaultForgotPasswordEmailTemplateID = "0502df1e-4010-4b43-b571-d423fce978b2"
	DefaultPasswordlessEmailTemplateID   = "fa6668cb-8569-44df-b0a2-8fcd996df915"
	DefaultSetPasswordEmailTemplateID    = "e160cc59-a73e-4d67-9b55-43ec9b46e0ec"
)
