// Package email is FusionAuth's email templates (/api/email/template), the
// sending of templated mail (/api/email/send) and the mailer that delivers
// it. Mail is rendered and queued in the email outbox in the request's
// transaction; each node's Mailer sends queued mail over SMTP with the
// tenant's emailConfiguration, so no request waits on an SMTP server.
package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"text/template"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

const templateField = "emailTemplate"

// Service owns email templates and queues mail.
type Service struct {
	store   *store.Store
	clock   kit.Clock
	log     *slog.Logger
	audit   *audit.Log
	tenancy *tenancy.Service
	baseURL atomic.Pointer[string]
}

// SetBaseURL sets Latch's public address, the {{.baseURL}} of templates.
func (s *Service) SetBaseURL(u string) { u = strings.TrimSuffix(u, "/"); s.baseURL.Store(&u) }

// BaseURL is Latch's public address as set by SetBaseURL ("" before).
func (s *Service) BaseURL() string {
	if p := s.baseURL.Load(); p != nil {
		return *p
	}
	return ""
}

// New wires the service.
func New(st *store.Store, clock kit.Clock, log *slog.Logger, a *audit.Log, t *tenancy.Service) *Service {
	return &Service{store: st, clock: clock, log: log, audit: a, tenancy: t}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// TemplateSearch is FusionAuth's EmailTemplateSearchCriteria.
type TemplateSearch struct {
	Name            string `json:"name"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

func fromRow(r *store.EmailTemplateRow) (*model.EmailTemplate, error) {
	var t model.EmailTemplate
	if err := json.Unmarshal([]byte(r.Body), &t); err != nil {
		return nil, fmt.Errorf("decode email template %s: %w", r.ID, err)
	}
	t.ID, t.InsertInstant, t.LastUpdateInstant = r.ID, r.InsertInstant, r.LastUpdateInstant
	return &t, nil
}

func toRow(t *model.EmailTemplate) (*store.EmailTemplateRow, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return &store.EmailTemplateRow{ID: t.ID, Name: t.Name, Body: string(b), InsertInstant: t.InsertInstant, LastUpdateInstant: t.LastUpdateInstant}, nil
}

// checkTemplate validates a template: a name, a subject, and templates that
// parse.
func checkTemplate(t *model.EmailTemplate) error {
	var verrs model.Errors
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		verrs.Field(templateField+".name", "blank", "You must specify the [name] property.")
	}
	if strings.TrimSpace(t.DefaultSubject) == "" {
		verrs.Field(templateField+".defaultSubject", "blank", "You must specify the [defaultSubject] property.")
	}
	if strings.TrimSpace(t.DefaultTextTemplate) == "" && strings.TrimSpace(t.DefaultHTMLTemplate) == "" {
		verrs.Field(templateField+".defaultTextTemplate", "blank", "You must specify a text or an HTML template.")
	}
	parseText := func(field, text string) {
		if _, err := template.New(field).Option("missingkey=zero").Parse(text); err != nil {
			verrs.Field(templateField+"."+field, "invalid", "The template does not parse: "+err.Error())
		}
	}
	parseHTML := func(field, text string) {
		if _, err := htmltemplate.New(field).Option("missingkey=zero").Parse(text); err != nil {
			verrs.Field(templateField+"."+field, "invalid", "The template does not parse: "+err.Error())
		}
	}
	parseText("defaultSubject", t.DefaultSubject)
	parseText("defaultTextTemplate", t.DefaultTextTemplate)
	parseHTML("defaultHtmlTemplate", t.DefaultHTMLTemplate)
	for l, v := range t.LocalizedSubjects {
		parseText("localizedSubjects."+l, v)
	}
	for l, v := range t.LocalizedTextTemplates {
		parseText("localizedTextTemplates."+l, v)
	}
	for l, v := range t.LocalizedHTMLTemplates {
		parseHTML("localizedHtmlTemplates."+l, v)
	}
	if t.FromEmail != "" && !kit.IsEmail(t.FromEmail) {
		verrs.Field(templateField+".fromEmail", "invalid", "The [fromEmail] must be an email address.")
	}
	return verrs.Err()
}

// Template returns one template, or model.ErrNotFound.
func (s *Service) Template(ctx context.Context, id string) (*model.EmailTemplate, error) {
	r, err := s.store.Read().EmailTemplateByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("email template %s", id)
	}
	if err != nil {
		return nil, err
	}
	return fromRow(r)
}

// Templates returns every template, by name.
func (s *Service) Templates(ctx context.Context) ([]*model.EmailTemplate, error) {
	out, _, err := s.SearchTemplates(ctx, TemplateSearch{NumberOfResults: 10000})
	return out, err
}

// SearchTemplates finds templates by name.
func (s *Service) SearchTemplates(ctx context.Context, q TemplateSearch) ([]*model.EmailTemplate, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	rows, err := s.store.Read().SearchEmailTemplates(ctx, strings.ReplaceAll(strings.TrimSpace(q.Name), "*", ""))
	if err != nil {
		return nil, 0, err
	}
	total := len(rows)
	rows = rows[min(offset, total):min(offset+limit, total)]
	out := make([]*model.EmailTemplate, 0, len(rows))
	for _, r := range rows {
		t, err := fromRow(r)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, t)
	}
	return out, total, nil
}

// CreateTemplate stores a new template under id (generated when empty).
func (s *Service) CreateTemplate(ctx context.Context, actor kit.Actor, id string, in *model.EmailTemplate) (*model.EmailTemplate, error) {
	if in == nil {
		return nil, model.FieldError(templateField, "blank", "You must specify the [emailTemplate] object.")
	}
	var verrs model.Errors
	id = kit.NewOrGivenID(id, templateField+".id", &verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	t := *in
	if err := checkTemplate(&t); err != nil {
		return nil, err
	}
	now := s.now()
	t.ID, t.InsertInstant, t.LastUpdateInstant = id, now, now
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.insert(ctx, tx, actor, &t)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *Service) insert(ctx context.Context, tx *store.Tx, actor kit.Actor, t *model.EmailTemplate) error {
	if _, err := tx.EmailTemplateByID(ctx, t.ID); err == nil {
		return model.FieldError(templateField+".id", "duplicate", "An email template with this id already exists.")
	} else if !errors.Is(err, store.ErrNoRows) {
		return err
	}
	row, err := toRow(t)
	if err != nil {
		return err
	}
	if err := tx.InsertEmailTemplate(ctx, row); err != nil {
		return err
	}
	return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Created email template [%s] (%s)", t.Name, t.ID), TargetID: t.ID, New: t})
}

// UpdateTemplate replaces a template.
func (s *Service) UpdateTemplate(ctx context.Context, actor kit.Actor, id string, in *model.EmailTemplate) (*model.EmailTemplate, error) {
	if in == nil {
		return nil, model.FieldError(templateField, "blank", "You must specify the [emailTemplate] object.")
	}
	return s.changeTemplate(ctx, actor, id, func(*model.EmailTemplate) (*model.EmailTemplate, error) { c := *in; return &c, nil })
}

// PatchTemplate applies a PATCH in any of FusionAuth's forms.
func (s *Service) PatchTemplate(ctx context.Context, actor kit.Actor, id string, form model.PatchForm, body []byte) (*model.EmailTemplate, error) {
	return s.changeTemplate(ctx, actor, id, func(cur *model.EmailTemplate) (*model.EmailTemplate, error) {
		return model.PatchAs[model.EmailTemplate](cur, templateField, "email template", form, body)
	})
}

func (s *Service) changeTemplate(ctx context.Context, actor kit.Actor, id string, next func(*model.EmailTemplate) (*model.EmailTemplate, error)) (*model.EmailTemplate, error) {
	var out *model.EmailTemplate
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.EmailTemplateByID(ctx, id)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("email template %s", id)
		}
		if err != nil {
			return err
		}
		cur, err := fromRow(r)
		if err != nil {
			return err
		}
		t, err := next(cur)
		if err != nil {
			return err
		}
		if err := checkTemplate(t); err != nil {
			return err
		}
		t.ID, t.InsertInstant, t.LastUpdateInstant = cur.ID, cur.InsertInstant, s.now()
		row, err := toRow(t)
		if err != nil {
			return err
		}
		if err := tx.UpdateEmailTemplate(ctx, row); err != nil {
			return err
		}
		out = t
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Updated email template [%s] (%s)", t.Name, t.ID),
			TargetID: t.ID, Old: cur, New: t})
	})
	return out, err
}

// DeleteTemplate removes a template.
func (s *Service) DeleteTemplate(ctx context.Context, actor kit.Actor, id string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.EmailTemplateByID(ctx, id)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("email template %s", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.LockEmailTemplate(ctx, id); err != nil {
			return err
		}
		uses, err := templateUses(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(uses) > 0 {
			more := ""
			if len(uses) > maxUsesNamed {
				more = fmt.Sprintf(" and %d more", len(uses)-maxUsesNamed)
				uses = uses[:maxUsesNamed]
			}
			return model.GeneralError("EmailTemplateInUse", "The email template is in use by "+strings.Join(uses, "; ")+more+
				". Name another template there before deleting this one.")
		}
		if err := tx.DeleteEmailTemplate(ctx, id); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Deleted email template [%s] (%s)", r.Name, id), TargetID: id})
	})
}

// maxUsesNamed bounds the uses an EmailTemplateInUse answer lists.
const maxUsesNamed = 10

// templateUses lists where tenants and applications name the template: any
// setting named templateId or ending in TemplateId
// (emailConfiguration.forgotPasswordEmailTemplateId, an application's
// verificationEmailTemplateId, multiFactorConfiguration.email.templateId)
// holding its id.
func templateUses(ctx context.Context, tx *store.Tx, id string) ([]string, error) {
	holders, err := tx.Holders(ctx, id)
	if err != nil {
		return nil, err
	}
	var uses []string
	for _, h := range holders {
		var doc any
		if json.Unmarshal([]byte(h.Data), &doc) != nil {
			continue // not ours to judge; the owner's reads report it
		}
		for _, path := range templateIDPaths(doc, "", id) {
			uses = append(uses, fmt.Sprintf("%s [%s] (%s) as %s", h.Kind, h.Name, h.ID, path))
		}
	}
	return uses, nil
}

func templateIDPaths(v any, prefix, id string) []string {
	var out []string
	switch t := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			if sv, ok := t[k].(string); ok {
				if (k == "templateId" || strings.HasSuffix(k, "TemplateId")) && strings.EqualFold(strings.TrimSpace(sv), id) {
					out = append(out, path)
				}
				continue
			}
			out = append(out, templateIDPaths(t[k], path, id)...)
		}
	case []any:
		for i, e := range t {
			out = append(out, templateIDPaths(e, fmt.Sprintf("%s[%d]", prefix, i), id)...)
		}
	}
	return out
}

// Preview renders a template (not necessarily stored) with example data, as
// FusionAuth's preview does.
func (s *Service) Preview(ctx context.Context, t *model.EmailTemplate, locale string) (*model.Email, error) {
	if t == nil {
		return nil, model.FieldError(templateField, "blank", "You must specify the [emailTemplate] object.")
	}
	data := map[string]any{
		"user":                    map[string]any{"email": "example@example.com", "firstName": "John", "lastName": "Doe", "username": "example"},
		"tenant":                  map[string]any{"name": "Default"},
		"application":             map[string]any{"name": "Example application"},
		"verificationId":          "EXAMPLE-VERIFICATION-ID",
		"verificationOneTimeCode": "EXAMPLE",
		"changePasswordId":        "EXAMPLE-CHANGE-PASSWORD-ID",
		"code":                    "123456",
		"baseURL":                 s.BaseURL(),
	}
	r, err := render(ctx, t, localeOf(t, []string{locale}), data)
	var rerr *renderError
	if errors.As(err, &rerr) {
		return nil, rerr.fieldError()
	}
	if err != nil {
		return nil, err
	}
	return &model.Email{From: model.EmailAddress{Address: t.FromEmail, Display: t.DefaultFromName}, Subject: r.subject, Text: r.text, HTML: r.html}, nil
}

func auditSend(t *model.EmailTemplate, n int) audit.Change {
	return audit.Change{Message: fmt.Sprintf("Queued %d email(s) of template [%s] (%s)", n, t.Name, t.ID), TargetID: t.ID}
}
