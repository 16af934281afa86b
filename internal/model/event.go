package model

import "strings"

// Events and webhooks: FusionAuth's Webhook, its event payloads and the logs of
// their delivery.

// Webhook is FusionAuth's Webhook, plus Latch's allowPrivateNetworks.
type Webhook struct {
	ID                         string                        `json:"id,omitempty"`
	URL                        string                        `json:"url"`
	Description                string                        `json:"description,omitempty"`
	ConnectTimeout             int                           `json:"connectTimeout"`
	ReadTimeout                int                           `json:"readTimeout"`
	Data                       map[string]any                `json:"data,omitempty"`
	EventsEnabled              map[string]bool               `json:"eventsEnabled"`
	Global                     bool                          `json:"global"`
	Headers                    map[string]string             `json:"headers,omitempty"`
	HTTPAuthenticationUsername string                        `json:"httpAuthenticationUsername,omitempty"`
	HTTPAuthenticationPassword string                        `json:"httpAuthenticationPassword,omitempty"`
	SignatureConfiguration     WebhookSignatureConfiguration `json:"signatureConfiguration"`
	SSLCertificate             string                        `json:"sslCertificate,omitempty"`
	SSLCertificateKeyID        string                        `json:"sslCertificateKeyId,omitempty"`
	TenantIDs                  []string                      `json:"tenantIds"`
	// AllowPrivateNetworks lets the webhook reach loopback, link-local and
	// private addresses, which Latch refuses by default (SSRF).
	AllowPrivateNetworks bool  `json:"allowPrivateNetworks"`
	InsertInstant        int64 `json:"insertInstant,omitempty"`
	LastUpdateInstant    int64 `json:"lastUpdateInstant,omitempty"`
}

// WebhookSignatureConfiguration says whether and with which key requests
// are signed.
type WebhookSignatureConfiguration struct {
	Enabled      bool   `json:"enabled"`
	SigningKeyID string `json:"signingKeyId,omitempty"`
}

// Wants reports whether the webhook takes events of this type from this
// tenant.
func (w *Webhook) Wants(eventType, tenantID string) bool {
	if !w.EventsEnabled[eventType] {
		return false
	}
	if w.Global || tenantID == "" {
		return true
	}
	for _, id := range w.TenantIDs {
		if id == tenantID {
			return true
		}
	}
	return false
}

// Event types Latch emits (FusionAuth's EventType values).
const (
	EventUserCreate             = "user.create"
	EventUserCreateComplete     = "user.create.complete"
	EventUserUpdate             = "user.update"
	EventUserUpdateComplete     = "user.update.complete"
	EventUserDelete             = "user.delete"
	EventUserDeleteComplete     = "user.delete.complete"
	EventUserDeactivate         = "user.deactivate"
	EventUserReactivate         = "user.reactivate"
	EventUserLoginSuccess       = "user.login.success"
	EventUserLoginFailed        = "user.login.failed"
	EventUserRegistrationCreate = "user.registration.create"
	EventUserRegistrationUpdate = "user.registration.update"
	EventUserRegistrationDelete = "user.registration.delete"
	// EventUserRegistrationVerified: /api/user/verify-registration.
	EventUserRegistrationVerified = "user.registration.verified"
	EventUserPasswordResetStart   = "user.password.reset.start"
	EventUserPasswordResetSucess  = "user.password.reset.success"
	EventUserPasswordUpdate       = "user.password.update"
	EventUserEmailVerified        = "user.email.verified"
	EventUserTwoFactorAdd         = "user.two-factor.method.add"
	EventUserTwoFactorRemove      = "user.two-factor.method.remove"
	// A second factor asked (a login answered 242, /api/two-factor/start),
	// then given right or wrong at /api/two-factor/login.
	EventUserTwoFactorChallenge     = "user.two-factor.challenge"
	EventUserTwoFactorSuccess       = "user.two-factor.success"
	EventUserTwoFactorFailedAttempt = "user.two-factor.failed-attempt"
	// A create or an update refused for an email or a username that is
	// another user's login id.
	EventUserLoginIDDuplicateCreate = "user.loginId.duplicate.create"
	EventUserLoginIDDuplicateUpdate = "user.loginId.duplicate.update"
	EventJWTRefreshTokenRevoke      = "jwt.refresh-token.revoke"
	EventJWTRefresh                 = "jwt.refresh"
	EventUserBulkCreate             = "user.bulk.create"
	EventKickstartSuccess           = "kickstart.success"
	EventTest                       = "test"
	EventUserEmailUpdate            = "user.email.update"
	EventJWTPublicKeyUpdate         = "jwt.public-key.update"
	EventAuditLogCreate             = "audit-log.create"
	// EventEventLogCreate: an entry written to the event log (a delivery
	// or an email given up).
	EventEventLogCreate    = "event-log.create"
	EventGroupCreate       = "group.create"
	EventGroupUpdate       = "group.update"
	EventGroupDelete       = "group.delete"
	EventGroupMemberAdd    = "group.member.add"
	EventGroupMemberRemove = "group.member.remove"
	EventGroupMemberUpdate = "group.member.update"
	EventEntityCreate      = "entity.create"
	EventEntityUpdate      = "entity.update"
	EventEntityDelete      = "entity.delete"
	// CompleteSuffix makes an event type's .complete twin, sent after the
	// change commits and never transactional.
	CompleteSuffix = ".complete"
)

// EventTypes are the types a webhook may enable (FusionAuth's EventType
// enumeration); enabling another is a validation error.
var EventTypes = []string{
	EventAuditLogCreate, EventEventLogCreate, EventGroupCreate, "group.create.complete", EventGroupDelete,
	"group.delete.complete", EventGroupMemberAdd, "group.member.add.complete", EventGroupMemberRemove,
	"group.member.remove.complete", EventGroupMemberUpdate, "group.member.update.complete", EventGroupUpdate,
	"group.update.complete", EventJWTPublicKeyUpdate, EventJWTRefresh, EventJWTRefreshTokenRevoke,
	EventKickstartSuccess, EventTest, "user.action", EventUserBulkCreate, EventUserCreate, EventUserCreateComplete,
	EventUserDeactivate, EventUserDelete, EventUserDeleteComplete, EventUserEmailUpdate, EventUserEmailVerified,
	"user.identity-provider.link", "user.identity-provider.unlink", EventUserLoginIDDuplicateCreate,
	EventUserLoginIDDuplicateUpdate, EventUserLoginFailed, "user.login.new-device", EventUserLoginSuccess,
	"user.login.suspicious", "user.password.breach", EventUserPasswordResetSend, EventUserPasswordResetStart,
	EventUserPasswordResetSucess, EventUserPasswordUpdate, EventUserReactivate, EventUserRegistrationCreate,
	"user.registration.create.complete", EventUserRegistrationDelete, "user.registration.delete.complete",
	EventUserRegistrationUpdate, "user.registration.update.complete", EventUserRegistrationVerified,
	EventUserTwoFactorAdd, EventUserTwoFactorRemove, EventUserUpdate, EventUserUpdateComplete,
	"user.identity.verified", "user.identity.update", EventEntityCreate, "entity.create.complete",
	EventEntityDelete, "entity.delete.complete", EventEntityUpdate, "entity.update.complete",
	EventUserTwoFactorChallenge, EventUserTwoFactorFailedAttempt, EventUserTwoFactorSuccess,
}

// EventUserPasswordResetSend is sent when a forgot-password email goes out.
const EventUserPasswordResetSend = "user.password.reset.send"

// Event is one event to emit: its type, the tenant it belongs to, the user
// or other object (group, entity) it is about, which orders delivery and is
// the event log's linkedObjectId, and its type-specific members (user,
// registration, applicationId …). The id, createInstant and info are filled
// when it is written.
type Event struct {
	Type     string
	TenantID string
	UserID   string
	// ObjectID is the group or entity an event is about (UserID for users).
	ObjectID string
	Body     map[string]any
	// Build, when set, makes Body only once a webhook wants the event
	// (building it may cost a read).
	Build func() (map[string]any, error)
}

// EventConfiguration is a tenant's per-event settings (FusionAuth's
// tenant.eventConfiguration).
type EventConfiguration struct {
	Events map[string]EventConfigurationData `json:"events,omitempty"`
}

// EventConfigurationData is one event type's tenant settings.
type EventConfigurationData struct {
	Enabled         *bool  `json:"enabled,omitempty"`
	TransactionType string `json:"transactionType,omitempty"`
}

// Transaction types: how many webhooks must accept a transactional event.
const (
	TransactionNone             = "None"
	TransactionAny              = "Any"
	TransactionSimpleMajority   = "SimpleMajority"
	TransactionSuperMajority    = "SuperMajority"
	TransactionAbsoluteMajority = "AbsoluteMajority"
)

// Transactional reports whether an event of this type can veto its change
// when the tenant gives it a transactionType. FusionAuth's NonTransactionalEvent
// types (the .complete events, instance events such as audit-log.create,
// password reset and update, two-factor changes, email update, identity
// provider links, duplicates) are sent after commit whatever the tenant says.
func Transactional(eventType string) bool {
	switch eventType {
	case EventKickstartSuccess, EventAuditLogCreate, EventEventLogCreate, EventUserPasswordResetSend, EventUserPasswordResetStart, EventUserPasswordResetSucess,
		EventUserPasswordUpdate, EventUserTwoFactorAdd, EventUserTwoFactorRemove, EventUserEmailUpdate,
		"user.identity-provider.link", "user.identity-provider.unlink", EventUserLoginIDDuplicateCreate, EventUserLoginIDDuplicateUpdate,
		EventUserTwoFactorChallenge, EventUserTwoFactorFailedAttempt, EventUserTwoFactorSuccess:
		return false
	}
	return !strings.HasSuffix(eventType, CompleteSuffix)
}

// WebhookEventLog is FusionAuth's record of one event and its deliveries.
type WebhookEventLog struct {
	ID                 string               `json:"id"`
	Attempts           []*WebhookAttemptLog `json:"attempts,omitempty"`
	Event              map[string]any       `json:"event,omitempty"`
	EventResult        string               `json:"eventResult"`
	EventType          string               `json:"eventType"`
	FailedAttempts     int                  `json:"failedAttempts"`
	InsertInstant      int64                `json:"insertInstant"`
	LastAttemptInstant int64                `json:"lastAttemptInstant,omitempty"`
	LastUpdateInstant  int64                `json:"lastUpdateInstant"`
	LinkedObjectID     string               `json:"linkedObjectId,omitempty"`
	Sequence           int64                `json:"sequence"`
	SuccessfulAttempts int                  `json:"successfulAttempts"`
}

// WebhookAttemptLog is one delivery attempt.
type WebhookAttemptLog struct {
	ID                  string         `json:"id"`
	Data                map[string]any `json:"data,omitempty"`
	EndInstant          int64          `json:"endInstant"`
	StartInstant        int64          `json:"startInstant"`
	AttemptResult       string         `json:"attemptResult"`
	WebhookCallResponse map[string]any `json:"webhookCallResponse,omitempty"`
	WebhookEventLogID   string         `json:"webhookEventLogId"`
	WebhookID           string         `json:"webhookId"`
}

// EventLog is FusionAuth's event log entry (delivery and email failures).
type EventLog struct {
	ID            int64  `json:"id"`
	InsertInstant int64  `json:"insertInstant"`
	Message       string `json:"message"`
	Type          string `json:"type"`
}
