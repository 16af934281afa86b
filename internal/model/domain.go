package model

import "encoding/json"

// Well-known ids FusionAuth fixes on every instance.
const (
	AdminApplicationID = "3c219e58-ed0e-4b18-ad48-f4f92793ae32"
	AdminRoleID        = "631ecd9d-8d40-4c13-8277-80cedb8236e2"
)

// Tenant is FusionAuth's Tenant. Settings later features use are kept whole in
// Data so that a client gets back what it sent.
type Tenant struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	InsertInstant     int64  `json:"insertInstant"`
	LastUpdateInstant int64  `json:"lastUpdateInstant"`
}

// Application is FusionAuth's Application (the fields the store knows so far).
type Application struct {
	ID                string            `json:"id"`
	TenantID          string            `json:"tenantId"`
	Name              string            `json:"name"`
	Active            bool              `json:"active"`
	Roles             []ApplicationRole `json:"roles,omitempty"`
	InsertInstant     int64             `json:"insertInstant"`
	LastUpdateInstant int64             `json:"lastUpdateInstant"`
}

// ApplicationRole is a role defined on an application.
type ApplicationRole struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Description       string `json:"description,omitempty"`
	IsDefault         bool   `json:"isDefault"`
	IsSuperRole       bool   `json:"isSuperRole"`
	InsertInstant     int64  `json:"insertInstant"`
	LastUpdateInstant int64  `json:"lastUpdateInstant"`
}

// UserRecord is the columns of a user that setup and recovery write and read
// directly (the whole user is User). The password hash never leaves the store
// layer in this struct.
type UserRecord struct {
	ID                        string `json:"id"`
	TenantID                  string `json:"tenantId"`
	Email                     string `json:"email,omitempty"`
	Username                  string `json:"username,omitempty"`
	FullName                  string `json:"fullName,omitempty"`
	Active                    bool   `json:"active"`
	Verified                  bool   `json:"verified"`
	PasswordChangeRequired    bool   `json:"passwordChangeRequired"`
	InsertInstant             int64  `json:"insertInstant"`
	LastUpdateInstant         int64  `json:"lastUpdateInstant"`
	LastLoginInstant          *int64 `json:"lastLoginInstant,omitempty"`
	PasswordLastUpdateInstant int64  `json:"passwordLastUpdateInstant,omitempty"`
}

// UserRegistration ties a user to an application with roles.
type UserRegistration struct {
	ID                string   `json:"id"`
	UserID            string   `json:"-"`
	ApplicationID     string   `json:"applicationId"`
	Roles             []string `json:"roles,omitempty"`
	InsertInstant     int64    `json:"insertInstant"`
	LastUpdateInstant int64    `json:"lastUpdateInstant"`
}

// AuditLog is FusionAuth's AuditLog plus who acted and from where.
type AuditLog struct {
	ID            int64           `json:"id"`
	InsertInstant int64           `json:"insertInstant"`
	InsertUser    string          `json:"insertUser"`
	Message       string          `json:"message"`
	Reason        string          `json:"reason,omitempty"`
	Data          json.RawMessage `json:"data,omitempty"`
	OldValue      json.RawMessage `json:"oldValue,omitempty"`
	NewValue      json.RawMessage `json:"newValue,omitempty"`
	// Extensions: the acting principal and the request that made the change.
	ActorType string `json:"actorType,omitempty"` // apiKey, user, cli, kickstart, system
	ActorID   string `json:"actorId,omitempty"`
	Method    string `json:"method,omitempty"`
	Path      string `json:"path,omitempty"`
	TargetID  string `json:"targetId,omitempty"`
	IPAddress string `json:"ipAddress,omitempty"`
	Severity  string `json:"severity,omitempty"` // info, critical
}

// IPAccessControlList is FusionAuth's IP ACL.
type IPAccessControlList struct {
	ID                string                 `json:"id,omitempty"`
	Name              string                 `json:"name"`
	Entries           []IPAccessControlEntry `json:"entries"`
	InsertInstant     int64                  `json:"insertInstant,omitempty"`
	LastUpdateInstant int64                  `json:"lastUpdateInstant,omitempty"`
}

// IPAccessControlEntry allows or blocks a range; "*" as start matches all.
type IPAccessControlEntry struct {
	Action         string `json:"action"`
	StartIPAddress string `json:"startIPAddress"`
	EndIPAddress   string `json:"endIPAddress,omitempty"`
}
