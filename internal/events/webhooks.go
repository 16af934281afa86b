package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// /api/webhook: FusionAuth's webhook API. Webhooks are system-wide objects;
// a webhook's tenantIds (or global) say whose events it takes.

const webhookField = "webhook"

// Default timeouts in milliseconds when a webhook names none.
const (
	defaultConnectTimeout = 1000
	defaultReadTimeout    = 2000
	maxTimeout            = 60000
)

// WebhookSearch is FusionAuth's WebhookSearchCriteria.
type WebhookSearch struct {
	Description     string `json:"description"`
	URL             string `json:"url"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

func passwordAD(id string) string { return "webhook:" + id }

func (s *Service) webhookFromRow(r *store.WebhookRow) (*model.Webhook, error) {
	var w model.Webhook
	if err := json.Unmarshal([]byte(r.Body), &w); err != nil {
		return nil, fmt.Errorf("decode webhook %s: %w", r.ID, err)
	}
	w.ID, w.InsertInstant, w.LastUpdateInstant = r.ID, r.InsertInstant, r.LastUpdateInstant
	if r.SealedPassword != "" {
		p, err := s.master.Open(r.SealedPassword, passwordAD(r.ID))
		if err != nil {
			return nil, fmt.Errorf("open webhook %s password: %w", r.ID, err)
		}
		w.HTTPAuthenticationPassword = p
	}
	if w.EventsEnabled == nil {
		w.EventsEnabled = map[string]bool{}
	}
	if w.TenantIDs == nil {
		w.TenantIDs = []string{}
	}
	return &w, nil
}

func (s *Service) webhookRow(w *model.Webhook) (*store.WebhookRow, error) {
	stored := *w
	stored.HTTPAuthenticationPassword = ""
	body, err := json.Marshal(&stored)
	if err != nil {
		return nil, err
	}
	r := &store.WebhookRow{ID: w.ID, URL: w.URL, Description: w.Description, Body: string(body),
		InsertInstant: w.InsertInstant, LastUpdateInstant: w.LastUpdateInstant}
	if w.HTTPAuthenticationPassword != "" {
		r.SealedPassword = s.master.Seal(w.HTTPAuthenticationPassword, passwordAD(w.ID))
	}
	return r, nil
}

// normalizeWebhook checks a webhook and fills its defaults.
func (s *Service) normalizeWebhook(ctx context.Context, tx *store.Tx, w *model.Webhook) error {
	var verrs model.Errors
	w.URL = strings.TrimSpace(w.URL)
	if w.URL == "" {
		verrs.Field(webhookField+".url", "blank", "You must specify the [url] property.")
	} else if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		verrs.Field(webhookField+".url", "invalid", "The [url] must be an absolute http or https URL.")
	}
	if w.ConnectTimeout == 0 {
		w.ConnectTimeout = defaultConnectTimeout
	}
	if w.ReadTimeout == 0 {
		w.ReadTimeout = defaultReadTimeout
	}
	if w.ConnectTimeout < 0 || w.ConnectTimeout > maxTimeout {
		verrs.Field(webhookField+".connectTimeout", "invalid", "The [connectTimeout] must be between 1 and 60000 milliseconds.")
	}
	if w.ReadTimeout < 0 || w.ReadTimeout > maxTimeout {
		verrs.Field(webhookField+".readTimeout", "invalid", "The [readTimeout] must be between 1 and 60000 milliseconds.")
	}
	if w.EventsEnabled == nil {
		w.EventsEnabled = map[string]bool{}
	}
	for t := range w.EventsEnabled {
		if !slices.Contains(model.EventTypes, t) {
			verrs.Field(webhookField+".eventsEnabled", "invalid", fmt.Sprintf("The event type [%s] is not one of the event types.", t))
		}
	}
	for name, value := range w.Headers {
		if !isToken(name) || !isFieldValue(value) {
			verrs.Field(webhookField+".headers", "invalid", "Header names must be tokens and values must be one line.")
			break
		}
	}
	if (w.HTTPAuthenticationUsername == "") != (w.HTTPAuthenticationPassword == "") {
		verrs.Field(webhookField+".httpAuthenticationPassword", "blank", "HTTP Basic authentication needs both a username and a password.")
	}
	if w.TenantIDs == nil {
		w.TenantIDs = []string{}
	}
	for i, id := range w.TenantIDs {
		canon, ok := kit.CanonicalID(id)
		if !ok {
			verrs.Field(webhookField+".tenantIds", "invalid", "Each tenant id must be a UUID.")
			continue
		}
		w.TenantIDs[i] = canon
		if _, err := tx.TenantByID(ctx, canon); errors.Is(err, store.ErrNoRows) {
			verrs.Field(webhookField+".tenantIds", "invalid", fmt.Sprintf("The tenant [%s] does not exist.", canon))
		} else if err != nil {
			return err
		}
	}
	if w.Global {
		w.TenantIDs = []string{}
	}
	if sc := &w.SignatureConfiguration; sc.Enabled {
		if sc.SigningKeyID == "" {
			verrs.Field(webhookField+".signatureConfiguration.signingKeyId", "blank", "A signed webhook needs a [signingKeyId].")
		} else if why, err := signingKeyUnusable(ctx, tx, sc.SigningKeyID); err != nil {
			return err
		} else if why != "" {
			verrs.Field(webhookField+".signatureConfiguration.signingKeyId", "invalid", why)
		}
	}
	return verrs.Err()
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2), as a header
// name must be: a name that is not one fails every delivery.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// isFieldValue reports whether s may be a header's value: one line without
// control characters other than tab (RFC 9110 §5.5).
func isFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// signingKeyUnusable says why the key cannot sign a webhook's requests (""
// when it can), and locks it for the transaction: a deletion of the key
// either commits first or sees this webhook among its uses (KeyInUse).
func signingKeyUnusable(ctx context.Context, tx *store.Tx, id string) (string, error) {
	exists, err := tx.LockSigningKey(ctx, id)
	if err != nil || !exists {
		return "The signing key does not exist.", err
	}
	k, err := tx.SigningKeyByID(ctx, id)
	if err != nil {
		return "", err
	}
	if k.PrivateSealed == "" {
		return "The signing key holds no private or secret key: it cannot sign.", nil
	}
	return "", nil
}

func webhookLabel(w *model.Webhook) string { return fmt.Sprintf("[%s] (%s)", w.URL, w.ID) }

// snapshot is a webhook as the audit log keeps it: without its password.
func snapshot(w *model.Webhook) *model.Webhook {
	c := *w
	if c.HTTPAuthenticationPassword != "" {
		c.HTTPAuthenticationPassword = "[redacted]"
	}
	return &c
}

// Webhook returns one webhook, or model.ErrNotFound.
func (s *Service) Webhook(ctx context.Context, id string) (*model.Webhook, error) {
	r, err := s.store.Read().WebhookByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("webhook %s", id)
	}
	if err != nil {
		return nil, err
	}
	return s.webhookFromRow(r)
}

// Webhooks returns every webhook.
func (s *Service) Webhooks(ctx context.Context) ([]*model.Webhook, error) {
	rows, err := s.store.Read().Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	return s.fromRows(rows)
}

func (s *Service) fromRows(rows []*store.WebhookRow) ([]*model.Webhook, error) {
	out := make([]*model.Webhook, 0, len(rows))
	for _, r := range rows {
		w, err := s.webhookFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// SearchWebhooks finds webhooks by description and url (substrings; "*" is
// accepted and ignored).
func (s *Service) SearchWebhooks(ctx context.Context, q WebhookSearch) ([]*model.Webhook, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	clean := func(v string) string { return strings.ReplaceAll(strings.TrimSpace(v), "*", "") }
	rows, err := s.store.Read().SearchWebhooks(ctx, clean(q.Description), clean(q.URL))
	if err != nil {
		return nil, 0, err
	}
	total := len(rows)
	rows = rows[min(offset, total):min(offset+limit, total)]
	out, err := s.fromRows(rows)
	return out, total, err
}

// CreateWebhook stores a new webhook under id (generated when empty).
func (s *Service) CreateWebhook(ctx context.Context, actor kit.Actor, id string, in *model.Webhook) (*model.Webhook, error) {
	if in == nil {
		return nil, model.FieldError(webhookField, "blank", "You must specify the [webhook] object.")
	}
	var verrs model.Errors
	id = kit.NewOrGivenID(id, webhookField+".id", &verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	w := *in
	now := s.now()
	w.ID, w.InsertInstant, w.LastUpdateInstant = id, now, now
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.normalizeWebhook(ctx, tx, &w); err != nil {
			return err
		}
		if _, err := tx.WebhookByID(ctx, id); err == nil {
			return model.FieldError(webhookField+".id", "duplicate", "A webhook with this id already exists.")
		} else if !errors.Is(err, store.ErrNoRows) {
			return err
		}
		row, err := s.webhookRow(&w)
		if err != nil {
			return err
		}
		if err := tx.InsertWebhook(ctx, row); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Created webhook " + webhookLabel(&w), TargetID: id, New: snapshot(&w)})
	})
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// UpdateWebhook replaces a webhook.
func (s *Service) UpdateWebhook(ctx context.Context, actor kit.Actor, id string, in *model.Webhook) (*model.Webhook, error) {
	if in == nil {
		return nil, model.FieldError(webhookField, "blank", "You must specify the [webhook] object.")
	}
	return s.changeWebhook(ctx, actor, id, func(*model.Webhook) (*model.Webhook, error) { c := *in; return &c, nil })
}

// PatchWebhook applies a PATCH in any of FusionAuth's forms to
// {"webhook":{…}}, then validates the result as an update.
func (s *Service) PatchWebhook(ctx context.Context, actor kit.Actor, id string, form model.PatchForm, body []byte) (*model.Webhook, error) {
	return s.changeWebhook(ctx, actor, id, func(cur *model.Webhook) (*model.Webhook, error) {
		return model.PatchAs[model.Webhook](cur, webhookField, "webhook", form, body)
	})
}

func (s *Service) changeWebhook(ctx context.Context, actor kit.Actor, id string, next func(cur *model.Webhook) (*model.Webhook, error)) (*model.Webhook, error) {
	var out *model.Webhook
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.WebhookByID(ctx, id)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("webhook %s", id)
		}
		if err != nil {
			return err
		}
		cur, err := s.webhookFromRow(r)
		if err != nil {
			return err
		}
		w, err := next(cur)
		if err != nil {
			return err
		}
		w.ID, w.InsertInstant, w.LastUpdateInstant = cur.ID, cur.InsertInstant, s.now()
		if err := s.normalizeWebhook(ctx, tx, w); err != nil {
			return err
		}
		row, err := s.webhookRow(w)
		if err != nil {
			return err
		}
		if err := tx.UpdateWebhook(ctx, row); err != nil {
			return err
		}
		out = w
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Updated webhook " + webhookLabel(w), TargetID: id,
			Old: snapshot(cur), New: snapshot(w)})
	})
	return out, err
}

// DeleteWebhook removes a webhook; its undelivered events are dropped.
func (s *Service) DeleteWebhook(ctx context.Context, actor kit.Actor, id string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.WebhookByID(ctx, id)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("webhook %s", id)
		}
		if err != nil {
			return err
		}
		cur, err := s.webhookFromRow(r)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Deleted webhook " + webhookLabel(cur), TargetID: id, Old: snapshot(cur)})
	})
}
