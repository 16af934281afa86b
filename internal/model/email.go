package model

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
