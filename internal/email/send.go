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
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// SendRequest is FusionAuth's SendRequest.
type SendRequest struct {
	ApplicationID      string               `json:"applicationId"`
	BCCAddresses       []string             `json:"bccAddresses"`
	CCAddresses        []string             `json:"ccAddresses"`
	PreferredLanguages []string             `json:"preferredLanguages"`
	RequestData        map[string]any       `json:"requestData"`
	ToAddresses        []model.EmailAddress `json:"toAddresses"`
	UserIDs            []string             `json:"userIds"`
}

// SendResult is FusionAuth's SendResponse: per recipient (user id, or
// address of toAddresses), an empty object when the message was queued, or
// FusionAuth's EmailTemplateErrors saying why it was not.
type SendResult struct {
	AnonymousResults map[string]RecipientResult `json:"anonymousResults"`
	Results          map[string]RecipientResult `json:"results"`
}

// RecipientResult is FusionAuth's SendResponse.EmailTemplateErrors.
type RecipientResult struct {
	ParseErrors  map[string]string `json:"parseErrors,omitempty"`
	RenderErrors map[string]string `json:"renderErrors,omitempty"`
}

// Send renders a stored template for each user (in their preferred
// languages) and each address of toAddresses (in the request's), outside
// any transaction, then queues what rendered in one; the Mailer sends it.
// A recipient whose message does not render is answered in its result and
// the others are sent; a template that runs past its limits is refused
// (400): it would for the next recipient too.
func (s *Service) Send(ctx context.Context, actor kit.Actor, scope kit.TenantScope, templateID string, req SendRequest) (*SendResult, error) {
	t, err := s.Template(ctx, templateID)
	if err != nil {
		return nil, err
	}
	var verrs model.Errors
	if len(req.UserIDs) == 0 && len(req.ToAddresses) == 0 {
		verrs.Field("userIds", "blank", "You must specify at least one [userIds] or [toAddresses].")
	}
	if len(req.CCAddresses) > 0 || len(req.BCCAddresses) > 0 {
		verrs.Field("ccAddresses", "invalid", "Latch does not send copies yet: leave out [ccAddresses] and [bccAddresses].")
	}
	for _, to := range req.ToAddresses {
		if !kit.IsEmail(to.Address) {
			verrs.Field("toAddresses", "invalid", fmt.Sprintf("[%s] is not an email address.", to.Address))
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	rd := s.store.Read()
	base := map[string]any{"requestData": req.RequestData}
	appTenant := ""
	if strings.TrimSpace(req.ApplicationID) != "" {
		app, err := s.tenancy.Application(ctx, scope, req.ApplicationID)
		if err != nil {
			return nil, model.FieldError("applicationId", "invalid", "The application does not exist.")
		}
		appTenant = app.TenantID
		base["application"] = map[string]any{"id": app.ID, "name": app.Name, "tenantId": app.TenantID}
	}
	dataFor := func(user map[string]any) map[string]any {
		d := make(map[string]any, len(base)+1)
		for k, v := range base {
			d[k] = v
		}
		if user != nil {
			d["user"] = user
		}
		return d
	}
	out := &SendResult{AnonymousResults: map[string]RecipientResult{}, Results: map[string]RecipientResult{}}
	var queue []*Prepared
	// add renders one recipient's message; a limit stops the whole request.
	add := func(tenantID string, langs []string, to model.EmailAddress, data map[string]any) (RecipientResult, error) {
		p, err := s.prepare(ctx, t, langs, tenantID, to, data)
		var rerr *renderError
		switch {
		case errors.As(err, &rerr) && rerr.Limit:
			return RecipientResult{}, rerr.fieldError()
		case errors.As(err, &rerr) && rerr.Parse:
			return RecipientResult{ParseErrors: map[string]string{rerr.Field: rerr.Message}}, nil
		case errors.As(err, &rerr):
			return RecipientResult{RenderErrors: map[string]string{rerr.Field: rerr.Message}}, nil
		case err != nil:
			return RecipientResult{}, err
		}
		queue = append(queue, p)
		return RecipientResult{}, nil
	}
	for _, id := range req.UserIDs {
		row, err := kit.LoadUser(ctx, rd, scope, id)
		if err != nil {
			return nil, model.FieldError("userIds", "invalid", fmt.Sprintf("The user [%s] does not exist.", id))
		}
		if row.Email == "" {
			out.Results[row.ID] = RecipientResult{ParseErrors: map[string]string{"user.email": "The user has no email address."}}
			continue
		}
		user, langs, err := UserData(row)
		if err != nil {
			return nil, err
		}
		if out.Results[row.ID], err = add(row.TenantID, append(langs, req.PreferredLanguages...),
			model.EmailAddress{Address: row.Email, Display: row.FullName}, dataFor(user)); err != nil {
			return nil, err
		}
	}
	if len(req.ToAddresses) > 0 {
		tenantID := appTenant
		if tenantID == "" {
			tenantID = scope.Tenant()
		}
		if tenantID == "" {
			if tenantID, err = rd.SoleTenantID(ctx); err != nil {
				return nil, err
			}
			if tenantID == "" {
				return nil, model.GeneralError("TenantIdRequired", "Send the X-FusionAuth-TenantId header or an [applicationId]: the tenant's SMTP settings send mail to [toAddresses].")
			}
		}
		for _, to := range req.ToAddresses {
			if out.AnonymousResults[to.Address], err = add(tenantID, req.PreferredLanguages, to, dataFor(nil)); err != nil {
				return nil, err
			}
		}
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		for _, p := range queue {
			if err := s.Enqueue(ctx, tx, p); err != nil {
				return err
			}
		}
		return s.audit.Write(ctx, tx, actor, auditSend(t, len(queue)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UserData is a user as templates see it ({{.user.firstName}}): the stored
// object as every reader takes it (identity.StoredUserData: no secrets)
// with the columns Latch keeps apart; and the user's preferred languages.
func UserData(row *store.UserRow) (map[string]any, []string, error) {
	u, err := identity.StoredUserData(row.Data)
	if err != nil {
		return nil, nil, err
	}
	u["id"], u["email"], u["tenantId"], u["verified"] = row.ID, row.Email, row.TenantID, row.Verified
	if row.Username != "" {
		u["username"] = row.Username
	}
	for k, v := range map[string]string{"firstName": row.FirstName, "lastName": row.LastName, "fullName": row.FullName} {
		if v != "" {
			u[k] = v
		}
	}
	var langs []string
	if list, ok := u["preferredLanguages"].([]any); ok {
		for _, l := range list {
			if s, ok := l.(string); ok {
				langs = append(langs, s)
			}
		}
	}
	return u, langs, nil
}

// Prepared is a message rendered for one recipient, queued by Enqueue in
// the transaction of the change that sends it.
type Prepared struct {
	tenantID, message string
}

// Build renders a stored template for one recipient of a flow, outside any
// transaction (a template's run never holds a write lock). A template that
// is gone or does not render is a *model.MailNotBuilt.
func (s *Service) Build(ctx context.Context, templateID string, langs []string, tenantID string, to model.EmailAddress, data map[string]any) (*Prepared, error) {
	r, err := s.store.Read().EmailTemplateByID(ctx, templateID)
	return s.build(ctx, templateID, r, err, langs, tenantID, to, data)
}

// Queue renders a template for one recipient and queues it in tx: the
// flows whose mail is decided inside their change (a new user's
// verification email).
func (s *Service) Queue(ctx context.Context, tx *store.Tx, templateID string, langs []string, tenantID string, to model.EmailAddress, data map[string]any) error {
	r, err := tx.EmailTemplateByID(ctx, templateID)
	p, err := s.build(ctx, templateID, r, err, langs, tenantID, to, data)
	if err != nil {
		return err
	}
	return s.Enqueue(ctx, tx, p)
}

// Enqueue puts a prepared message in the outbox, in tx.
func (s *Service) Enqueue(ctx context.Context, tx *store.Tx, p *Prepared) error {
	return tx.InsertQueuedEmail(ctx, p.tenantID, p.message, s.now())
}

func (s *Service) build(ctx context.Context, templateID string, r *store.EmailTemplateRow, err error, langs []string, tenantID string,
	to model.EmailAddress, data map[string]any) (*Prepared, error) {
	if errors.Is(err, store.ErrNoRows) {
		return nil, &model.MailNotBuilt{TemplateID: templateID, Body: new(model.Errors).General("EmailTemplateMissing",
			fmt.Sprintf("The email template [%s] the tenant names does not exist.", templateID))}
	}
	if err != nil {
		return nil, fmt.Errorf("email template %s: %w", templateID, err)
	}
	t, err := fromRow(r)
	if err != nil {
		return nil, err
	}
	p, err := s.prepare(ctx, t, langs, tenantID, to, data)
	var rerr *renderError
	if errors.As(err, &rerr) {
		r := *rerr
		r.Message = redactValues(r.Message, data)
		body, _ := r.fieldError().(*model.Errors)
		return nil, &model.MailNotBuilt{TemplateID: templateID, Body: body}
	}
	return p, err
}

// redactValues removes a flow's own values (a changePasswordId, a code)
// from a rendering error: text/template quotes some values it fails on
// ("range can't iterate over …"), and the error is logged and written to
// the event log.
func redactValues(msg string, data map[string]any) string {
	for k, v := range data {
		if s, ok := v.(string); ok && k != "baseURL" && len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

// prepare renders t for one recipient in the first of langs the template
// is localized for.
func (s *Service) prepare(ctx context.Context, t *model.EmailTemplate, langs []string, tenantID string, to model.EmailAddress, data map[string]any) (*Prepared, error) {
	if _, ok := data["baseURL"]; !ok {
		data["baseURL"] = s.BaseURL()
	}
	locale := localeOf(t, langs)
	r, err := render(ctx, t, locale, data)
	if err != nil {
		return nil, err
	}
	from := model.EmailAddress{Address: t.FromEmail, Display: t.DefaultFromName}
	if n, ok := t.LocalizedFromNames[locale]; ok && locale != "" {
		from.Display = n
	}
	msg, err := json.Marshal(model.Email{From: from, To: []model.EmailAddress{to}, Subject: r.subject, Text: r.text, HTML: r.html})
	if err != nil {
		return nil, err
	}
	return &Prepared{tenantID: tenantID, message: string(msg)}, nil
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
	// The template's address and name each win over the tenant's, apart.
	from := msg.From
	if from.Address == "" {
		from.Address = c.DefaultFromEmail
	}
	if from.Display == "" {
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

// formatAddress writes an address header's mailbox as RFC 5322 wants it:
// net/mail quotes a display name with specials ("Doe, John" <…>), and
// encodes one that is not printable ASCII in an encoded-word whose
// characters a display name may hold (RFC 2047 §5(3)).
func formatAddress(a model.EmailAddress) string {
	return (&mail.Address{Name: a.Display, Address: a.Address}).String()
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
