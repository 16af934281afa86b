package email

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// SendRequest is FusionAuth's SendRequest (the members Latch reads).
type SendRequest struct {
	UserIDs       []string             `json:"userIds"`
	ToAddresses   []model.EmailAddress `json:"toAddresses"`
	RequestData   map[string]any       `json:"requestData"`
	ApplicationID string               `json:"applicationId"`
	Locales       []string             `json:"locales"`
}

// SendResult is FusionAuth's SendResponse.
type SendResult struct {
	AnonymousResults map[string]map[string]any `json:"anonymousResults"`
	Results          map[string]map[string]any `json:"results"`
}

// Send renders a stored template for each user (and address) and queues the
// mail in one transaction; the Mailer sends it.
func (s *Service) Send(ctx context.Context, actor kit.Actor, scope kit.TenantScope, templateID string, req SendRequest) (*SendResult, error) {
	t, err := s.Template(ctx, templateID)
	if err != nil {
		return nil, err
	}
	if len(req.UserIDs) == 0 && len(req.ToAddresses) == 0 {
		return nil, model.FieldError("userIds", "blank", "You must specify at least one [userIds] or [toAddresses].")
	}
	locale := ""
	if len(req.Locales) > 0 {
		locale = req.Locales[0]
	}
	out := &SendResult{AnonymousResults: map[string]map[string]any{}, Results: map[string]map[string]any{}}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		for _, id := range req.UserIDs {
			row, err := kit.LoadUser(ctx, tx, scope, id)
			if err != nil {
				return model.FieldError("userIds", "invalid", fmt.Sprintf("The user [%s] does not exist.", id))
			}
			if row.Email == "" {
				out.Results[row.ID] = map[string]any{"parseErrors": map[string]string{"user.email": "The user has no email address."}}
				continue
			}
			user, err := kit.ParseObject(row.Data)
			if err != nil {
				return err
			}
			user["id"], user["email"], user["tenantId"] = row.ID, row.Email, row.TenantID
			if err := s.queue(ctx, tx, t, locale, row.TenantID, model.EmailAddress{Address: row.Email},
				map[string]any{"user": user, "requestData": req.RequestData}); err != nil {
				return err
			}
			out.Results[row.ID] = map[string]any{}
		}
		for _, to := range req.ToAddresses {
			if !kit.IsEmail(to.Address) {
				return model.FieldError("toAddresses", "invalid", fmt.Sprintf("[%s] is not an email address.", to.Address))
			}
			tenantID := scope.Tenant()
			if tenantID == "" {
				var err error
				if tenantID, err = tx.SoleTenantID(ctx); err != nil {
					return err
				}
				if tenantID == "" {
					return model.GeneralError("TenantIdRequired", "Send the X-FusionAuth-TenantId header: the tenant's SMTP settings send mail to [toAddresses].")
				}
			}
			if err := s.queue(ctx, tx, t, locale, tenantID, to, map[string]any{"requestData": req.RequestData}); err != nil {
				return err
			}
			out.AnonymousResults[to.Address] = map[string]any{}
		}
		return s.audit.Write(ctx, tx, actor, auditSend(t, len(req.UserIDs)+len(req.ToAddresses)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Queue renders a template for one recipient and queues it in tx: the way
// the flows (forgot password, verification) send mail inside their change.
func (s *Service) Queue(ctx context.Context, tx *store.Tx, templateID, locale, tenantID string, to model.EmailAddress, data map[string]any) error {
	r, err := tx.EmailTemplateByID(ctx, templateID)
	if errors.Is(err, store.ErrNoRows) {
		return model.GeneralError("EmailTemplateMissing", fmt.Sprintf("The email template [%s] the tenant names does not exist.", templateID))
	}
	if err != nil {
		return fmt.Errorf("email template %s: %w", templateID, err)
	}
	t, err := fromRow(r)
	if err != nil {
		return err
	}
	return s.queue(ctx, tx, t, locale, tenantID, to, data)
}

func (s *Service) queue(ctx context.Context, tx *store.Tx, t *model.EmailTemplate, locale, tenantID string, to model.EmailAddress, data map[string]any) error {
	if _, ok := data["baseURL"]; !ok {
		data["baseURL"] = s.BaseURL()
	}
	subject, text, html, err := render(t, locale, data)
	if err != nil {
		return err
	}
	from := model.EmailAddress{Address: t.FromEmail, Display: t.DefaultFromName}
	if n, ok := t.LocalizedFromNames[locale]; ok && locale != "" {
		from.Display = n
	}
	msg, err := json.Marshal(model.Email{From: from, To: []model.EmailAddress{to}, Subject: subject, Text: text, HTML: html})
	if err != nil {
		return err
	}
	return tx.InsertQueuedEmail(ctx, tenantID, string(msg), s.now())
}

// Mailer sends queued mail from one node.
type Mailer struct {
	s     *Service
	owner string
}

// NewMailer makes this node's mailer.
func (s *Service) NewMailer() *Mailer { return &Mailer{s: s, owner: uuid.NewString()} }

// Mail is retried this often before it is given up (and written to the
// event log); the lease outlasts an SMTP conversation.
const (
	maxMailAttempts = 8
	mailLease       = 3 * time.Minute
	smtpTimeout     = 30 * time.Second
)

// Run sends until ctx ends, looking for due mail every pollEvery.
func (m *Mailer) Run(ctx context.Context, pollEvery time.Duration) {
	kit.Every(ctx, pollEvery, func() {
		if err := m.Round(ctx); err != nil && ctx.Err() == nil {
			m.s.log.WarnContext(ctx, "mail round failed", "err", err)
		}
	})
}

// Round claims and sends one batch of due mail.
func (m *Mailer) Round(ctx context.Context) error {
	now := m.s.clock.Now()
	if n, err := m.s.store.Read().DueEmails(ctx, now.UnixMilli()); err != nil || n == 0 {
		return err
	}
	var batch []*store.QueuedEmail
	if err := m.s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		batch, err = tx.ClaimEmails(ctx, m.owner, now.UnixMilli(), now.Add(mailLease).UnixMilli(), 16)
		return err
	}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, q := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.deliver(context.WithoutCancel(ctx), q)
		}()
	}
	wg.Wait()
	return nil
}

func (m *Mailer) deliver(ctx context.Context, q *store.QueuedEmail) {
	var msg model.Email
	err := json.Unmarshal([]byte(q.Message), &msg)
	if err == nil {
		var cfg *model.TenantConfig
		if cfg, err = m.s.tenancy.TenantConfig(ctx, q.TenantID); err == nil {
			err = sendSMTP(ctx, &cfg.EmailConfiguration, &msg)
		}
	}
	end := m.s.now()
	werr := m.s.store.InTx(ctx, func(tx *store.Tx) error {
		if err == nil {
			return tx.FinishEmail(ctx, q.Seq, m.owner)
		}
		if q.Attempts >= maxMailAttempts || errors.Is(err, model.ErrNotFound) {
			if err := tx.FinishEmail(ctx, q.Seq, m.owner); err != nil {
				return err
			}
			return m.s.audit.WriteEventLog(ctx, tx, &store.EventLogRow{InsertInstant: end, Type: "Error",
				Message: fmt.Sprintf("Gave up sending the email [%s] to %s after %d attempts: %v", msg.Subject, addresses(msg.To), q.Attempts, err)}, "")
		}
		delay := time.Second << min(q.Attempts-1, 10)
		return tx.RetryEmail(ctx, q.Seq, m.owner, end+min(delay, 10*time.Minute).Milliseconds())
	})
	if err != nil {
		m.s.log.WarnContext(ctx, "email not sent", "attempt", q.Attempts, "err", err)
	}
	if werr != nil {
		m.s.log.WarnContext(ctx, "email bookkeeping failed", "err", werr)
	}
}

func addresses(as []model.EmailAddress) string {
	var out []string
	for _, a := range as {
		out = append(out, a.Address)
	}
	return strings.Join(out, ", ")
}

// sendSMTP sends one message with a tenant's settings: security NONE (plain),
// TLS (STARTTLS, required) or SSL (TLS from the first byte).
func sendSMTP(ctx context.Context, c *model.EmailConfiguration, msg *model.Email) error {
	if c.Host == "" {
		return errors.New("the tenant has no SMTP host (emailConfiguration.host)")
	}
	port := c.Port
	if port == 0 {
		port = 25
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(port))
	d := &net.Dialer{Timeout: smtpTimeout}
	var conn net.Conn
	var err error
	tlsCfg := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if c.Security == "SSL" {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(smtpTimeout))
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer cl.Close()
	if c.Security == "TLS" {
		if err := cl.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password.Reveal(), c.Host)); err != nil {
			return fmt.Errorf("SMTP authentication: %w", err)
		}
	}
	from := msg.From
	if from.Address == "" {
		from = model.EmailAddress{Address: c.DefaultFromEmail, Display: c.DefaultFromName}
	} else if from.Display == "" {
		from.Display = c.DefaultFromName
	}
	if from.Address == "" {
		return errors.New("no from address: set the template's fromEmail or the tenant's defaultFromEmail")
	}
	if err := cl.Mail(from.Address); err != nil {
		return err
	}
	for _, to := range msg.To {
		if err := cl.Rcpt(to.Address); err != nil {
			return err
		}
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if err := writeMIME(w, from, msg, c.AdditionalHeaders); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return cl.Quit()
}

func formatAddress(a model.EmailAddress) string {
	if a.Display == "" {
		return "<" + a.Address + ">"
	}
	return mime.QEncoding.Encode("utf-8", a.Display) + " <" + a.Address + ">"
}

// writeMIME writes a multipart/alternative message (text and HTML) with the
// tenant's additional headers (checked again here: a header that could
// inject another is left out).
func writeMIME(w interface{ Write([]byte) (int, error) }, from model.EmailAddress, msg *model.Email, extra []model.EmailAdditionalHeaders) error {
	var to []string
	for _, a := range msg.To {
		to = append(to, formatAddress(a))
	}
	mw := multipart.NewWriter(w)
	head := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@latch>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=%s\r\n\r\n",
		formatAddress(from), strings.Join(to, ", "), mime.QEncoding.Encode("utf-8", msg.Subject), time.Now().UTC().Format(time.RFC1123Z),
		uuid.NewString(), mw.Boundary())
	var hb strings.Builder
	for _, h := range extra {
		if model.ValidMailHeader(h.Name, h.Value) {
			hb.WriteString(h.Name + ": " + mime.QEncoding.Encode("utf-8", h.Value) + "\r\n")
		}
	}
	head = hb.String() + head
	if _, err := w.Write([]byte(head)); err != nil {
		return err
	}
	part := func(ctype, body string) error {
		if body == "" {
			return nil
		}
		pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype + "; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(body)); err != nil {
			return err
		}
		return qw.Close()
	}
	if err := part("text/plain", msg.Text); err != nil {
		return err
	}
	if err := part("text/html", msg.HTML); err != nil {
		return err
	}
	return mw.Close()
}
