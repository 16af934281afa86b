package access

// Kickstart: the state that lets a kickstart begin once per instance, replay
// its requests (through the HTTP API, see internal/kickstart) and resume after
// a failure. The requests themselves are not run here: they go through the
// same handlers, guard and audit as any API call.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// KickstartLease is how long a starter holds a run between two requests.
// Another node (or the next start after a crash) may take the run over once it
// lapses; a finished or failed attempt releases it at once.
const KickstartLease = 2 * time.Minute

type kickstartCtxKey struct{}

// WithKickstart marks ctx as a kickstart's in-process request for file: the
// API then records the kickstart, not the plain key, as the actor. Only code in
// this process can set a context value; no header or body can.
func WithKickstart(ctx context.Context, file string) context.Context {
	return context.WithValue(ctx, kickstartCtxKey{}, file)
}

// KickstartFile returns the kickstart file ctx was marked with.
func KickstartFile(ctx context.Context) (string, bool) {
	f, ok := ctx.Value(kickstartCtxKey{}).(string)
	return f, ok
}

// KickstartActor is the audit actor of a kickstart's own changes.
func KickstartActor(file string) kit.Actor {
	return kit.Actor{Type: kit.ActorKickstart, Name: "kickstart " + file}
}

// KickstartRefused says why a kickstart did not (and will not) run on this
// instance; nothing was written.
type KickstartRefused struct{ Reason string }

func (e *KickstartRefused) Error() string { return "kickstart did not run: " + e.Reason }

// KickstartInvalid is a problem of the file that only the database reveals
// (a key's tenant that does not exist, a duplicate name…); nothing was written.
type KickstartInvalid struct{ Problem string }

func (e *KickstartInvalid) Error() string { return e.Problem }

// KickstartKey is one key of a kickstart file, as the file gives it.
type KickstartKey struct {
	ID                    string // "" for a new id
	Value                 string
	Name                  string
	Description           string // FusionAuth's kickstart field: metaData.attributes.description
	KeyManager            bool
	Endpoints             map[string][]string // empty: every endpoint
	TenantIDs             []string            // empty: every tenant
	IPAccessControlListID string
	Attributes            map[string]string
	ExpirationInstant     *int64
	Retrievable           bool
}

func (k *KickstartKey) apiKey() *model.APIKey {
	out := &model.APIKey{ID: k.ID, Name: strings.TrimSpace(k.Name), KeyManager: k.KeyManager,
		Permissions: model.APIKeyPermissions{Endpoints: k.Endpoints}, TenantIDs: slices.Clone(k.TenantIDs),
		IPAccessControlListID: k.IPAccessControlListID, ExpirationInstant: k.ExpirationInstant, Retrievable: k.Retrievable}
	attrs := maps.Clone(k.Attributes)
	if k.Description != "" {
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs["description"] = k.Description
	}
	if len(attrs) > 0 {
		out.MetaData = &model.APIKeyMetaData{Attributes: attrs}
	}
	for i, t := range out.TenantIDs {
		if canon, ok := canonicalUUID(strings.TrimSpace(t)); ok {
			out.TenantIDs[i] = canon
		}
	}
	normalizeTenants(out)
	return out
}

// CheckKickstartKey applies, without the database, the key API's rules to a
// key of a kickstart file, and to the first key the rule that it must be able
// to replay every request: a key manager for every endpoint and tenant, from
// any address. It returns the problems as sentences; none means valid.
func CheckKickstartKey(k *KickstartKey, first bool, nowMillis int64) []string {
	errs := new(model.Errors)
	if k.ID != "" {
		if _, ok := canonicalUUID(k.ID); !ok {
			errs.Field("apiKey.id", "invalid", "The id must be a UUID.")
		}
	}
	if k.Value == "" {
		errs.Field("apiKey.key", "blank", "A kickstart key needs its value in \"key\": it is how the file's requests, and you, will use it.")
	} else if utf8.RuneCountInString(k.Value) < MinGivenKeyLength {
		errs.Field("apiKey.key", "tooShort", fmt.Sprintf("The key must be at least %d characters long.", MinGivenKeyLength))
	} else {
		validateGivenKey(k.Value, errs)
	}
	a := k.apiKey()
	applyInput(a, &keyInput{}, false, errs)
	checkExpiry(a, nowMillis, errs)
	if validatePermissions(a, errs) {
		errs.Field("apiKey.permissions", "invalid", "permissions.endpoints names no method at all, which would give the key every endpoint; "+
			"leave permissions out for a key with every endpoint, or list the methods.")
	}
	for _, t := range a.Tenants() {
		if _, ok := canonicalUUID(t); !ok {
			errs.Field("apiKey.tenantId", "invalid", fmt.Sprintf("The tenant id [%s] is not a UUID.", t))
		}
	}
	msgs := flattenErrors(errs)
	if first && !IsFullManager(a, nowMillis) {
		var why []string
		if !a.KeyManager {
			why = append(why, "it must not set keyManager to false")
		}
		if !a.AllEndpoints() {
			why = append(why, "it must not limit permissions.endpoints")
		}
		if !a.Global() {
			why = append(why, "it must not be limited to a tenant")
		}
		if a.IPAccessControlListID != "" {
			why = append(why, "it must not have an IP access control list")
		}
		if a.Expired(nowMillis) {
			why = append(why, "it must not have expired")
		}
		msgs = append(msgs, "the first API key replays every request, so it needs access to every endpoint and every tenant: "+strings.Join(why, "; ")+".")
	}
	return msgs
}

// flattenErrors turns validation errors into sentences, general ones first.
func flattenErrors(e *model.Errors) []string {
	var out []string
	for _, g := range e.GeneralErrors {
		out = append(out, g.Message)
	}
	fields := slices.Sorted(maps.Keys(e.FieldErrors))
	for _, f := range fields {
		for _, it := range e.FieldErrors[f] {
			out = append(out, it.Message)
		}
	}
	return out
}

// ErrorSentences renders an error for an operator: validation errors as their
// messages, anything else as is.
func ErrorSentences(err error) string {
	var verrs *model.Errors
	if errors.As(err, &verrs) {
		return strings.Join(flattenErrors(verrs), " ")
	}
	return err.Error()
}

// KickstartState is what a kickstart needs to know about the instance.
type KickstartState struct {
	DefaultTenantID     string
	DefaultSigningKeyID string // "" when the default signing key is gone
	// NotFresh says why a new kickstart may not begin; "" on a fresh instance.
	NotFresh string
	// Run is the instance's kickstart, nil when it never had one; Steps are
	// its completed requests in order.
	Run   *store.KickstartRunRow
	Steps []*store.KickstartStepRow
}

// KickstartState reads the instance's kickstart state.
func (s *Service) KickstartState(ctx context.Context) (*KickstartState, error) {
	rd := s.store.Read()
	st := &KickstartState{}
	var err error
	if st.DefaultTenantID, err = adminTenantID(ctx, rd); err != nil {
		return nil, err
	}
	keys, err := rd.AllSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Name == signing.DefaultKeyName {
			st.DefaultSigningKeyID = k.ID
		}
	}
	run, err := rd.KickstartRun(ctx)
	switch {
	case errors.Is(err, store.ErrNoRows):
	case err != nil:
		return nil, err
	default:
		st.Run = run
		if st.Steps, err = rd.KickstartSteps(ctx, run.ID); err != nil {
			return nil, err
		}
	}
	if _, done, err := rd.Setting(ctx, store.SettingSetupCompleted); err != nil {
		return nil, err
	} else if done {
		st.NotFresh = "setup was already done on this instance"
	} else if st.NotFresh, err = notFresh(ctx, rd); err != nil {
		return nil, err
	}
	return st, nil
}

// notFresh says why the instance is not untouched: FusionAuth runs a kickstart
// only when no API key, user or tenant (beyond the Default one) exists.
func notFresh(ctx context.Context, tx *store.Tx) (string, error) {
	var why []string
	if n, err := tx.CountAPIKeys(ctx); err != nil {
		return "", err
	} else if n > 0 {
		why = append(why, fmt.Sprintf("%d API key(s)", n))
	}
	if n, err := tx.CountUsers(ctx); err != nil {
		return "", err
	} else if n > 0 {
		why = append(why, fmt.Sprintf("%d user(s)", n))
	}
	if n, err := tx.CountTenants(ctx); err != nil {
		return "", err
	} else if n > 1 {
		why = append(why, fmt.Sprintf("%d tenants besides the Default one", n-1))
	}
	if len(why) == 0 {
		return "", nil
	}
	return "the instance is not fresh: it has " + strings.Join(why, ", "), nil
}

// KickstartBegin is what a new run starts with.
type KickstartBegin struct {
	File     string
	KeysHash string
	// DefaultTenantID, when set and different, becomes the Default tenant's id
	// before the keys are made (so keys and requests can name it).
	DefaultTenantID string
	Keys            []KickstartKey
	Generated       map[string]string
	Total           int
	Owner           string // the lease holder
}

// BeginKickstart starts the instance's one kickstart in one transaction: it
// marks setup as done (a kickstarted instance has no setup wizard), changes
// the Default tenant's id when asked, makes the file's keys and records the
// run, leased to in.Owner. A starter that loses a race, or finds the instance
// no longer fresh, gets *KickstartRefused and nothing is written.
func (s *Service) BeginKickstart(ctx context.Context, actor kit.Actor, in KickstartBegin) (*store.KickstartRunRow, error) {
	now := s.now()
	run := &store.KickstartRunRow{ID: uuid.NewString(), File: in.File, KeysHash: in.KeysHash, Generated: in.Generated,
		Total: in.Total, Status: store.KickstartRunning, LeaseOwner: in.Owner,
		LeaseUntil: now + KickstartLease.Milliseconds(), InsertInstant: now, LastUpdateInstant: now}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		// First write: the setup wizard, `latch setup` and other starters race
		// on this key; on PostgreSQL the loser waits here for the winner.
		if err := tx.InsertSetting(ctx, store.SettingSetupCompleted, strconv.FormatInt(now, 10)); err != nil {
			if store.IsUnique(err) {
				return &KickstartRefused{Reason: "setup was already done on this instance (or another process began a kickstart)"}
			}
			return err
		}
		if why, err := notFresh(ctx, tx); err != nil {
			return err
		} else if why != "" {
			return &KickstartRefused{Reason: why}
		}
		if err := s.moveDefaultTenant(ctx, tx, actor, in.DefaultTenantID, now); err != nil {
			return err
		}
		// The first key now; the others now when what they name exists, else
		// when the run completes: a file may limit a key to a tenant (or an
		// IP ACL) that one of its requests makes.
		for i := range in.Keys {
			if i > 0 {
				ready, err := kickstartKeyReady(ctx, tx, in.Keys[i].apiKey())
				if err != nil {
					return err
				}
				if !ready {
					continue
				}
			}
			if err := s.mintKickstartKey(ctx, tx, actor, i, &in.Keys[i]); err != nil {
				return err
			}
		}
		if err := tx.InsertKickstartRun(ctx, run); err != nil {
			if store.IsUnique(err) {
				return &KickstartRefused{Reason: "another process began a kickstart on this instance"}
			}
			return fmt.Errorf("record kickstart run: %w", err)
		}
		if err := tx.DeleteSetupTokens(ctx); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Began kickstart %s: %d API key(s), %d request(s)",
			in.File, len(in.Keys), in.Total), TargetID: run.ID})
	})
	if err != nil {
		return nil, err
	}
	s.Keys.Refresh(ctx)
	return run, nil
}

// kickstartKeyReady reports whether the tenants and IP ACL a key names exist.
func kickstartKeyReady(ctx context.Context, tx *store.Tx, k *model.APIKey) (bool, error) {
	for _, t := range k.Tenants() {
		canon, ok := canonicalUUID(t)
		if !ok {
			return true, nil // refused as invalid when minted
		}
		if exists, err := tx.TenantExists(ctx, canon); err != nil || !exists {
			return false, err
		}
	}
	if k.IPAccessControlListID != "" {
		_, err := tx.IPACLByID(ctx, k.IPAccessControlListID)
		if errors.Is(err, store.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	return true, nil
}

// mintKickstartKeys stores the keys of the file not stored yet (found by
// value), in tx.
func (s *Service) mintKickstartKeys(ctx context.Context, tx *store.Tx, actor kit.Actor, keys []KickstartKey) error {
	for i := range keys {
		_, err := tx.APIKeyByHash(ctx, hashKey(keys[i].Value))
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNoRows) {
			return err
		}
		if err := s.mintKickstartKey(ctx, tx, actor, i, &keys[i]); err != nil {
			return err
		}
	}
	return nil
}

// mintKickstartKey stores key i of the file, checked as the key API would.
func (s *Service) mintKickstartKey(ctx context.Context, tx *store.Tx, actor kit.Actor, i int, k *KickstartKey) error {
	err := s.mintCheckedKey(ctx, tx, actor, k)
	var invalid *KickstartInvalid
	if errors.As(err, &invalid) {
		return &KickstartInvalid{Problem: fmt.Sprintf("apiKeys[%d]: %s", i, invalid.Problem)}
	}
	if err != nil {
		return fmt.Errorf("apiKeys[%d]: %w", i, err)
	}
	return nil
}

func (s *Service) mintCheckedKey(ctx context.Context, tx *store.Tx, actor kit.Actor, k *KickstartKey) error {
	if msgs := CheckKickstartKey(k, false, s.now()); len(msgs) > 0 {
		return &KickstartInvalid{Problem: strings.Join(msgs, " ")}
	}
	a := k.apiKey()
	if a.ID != "" {
		a.ID, _ = canonicalUUID(a.ID)
	}
	applyInput(a, &keyInput{}, false, new(model.Errors))
	validatePermissions(a, new(model.Errors))
	errs := new(model.Errors)
	if err := checkReferences(ctx, tx, a, true, errs); err != nil {
		return err
	}
	if err := errs.Err(); err != nil {
		return &KickstartInvalid{Problem: ErrorSentences(err)}
	}
	if _, _, err := s.mintKey(ctx, tx, actor, a, k.Value); err != nil {
		var verrs *model.Errors
		if err := storeError(err); errors.As(err, &verrs) {
			return &KickstartInvalid{Problem: ErrorSentences(err)}
		}
		return err
	}
	return nil
}

// moveDefaultTenant gives the Default tenant the id a kickstart file chose,
// moving what references it. Only a fresh instance gets here, where that is
// the admin application (and whatever else bootstrap made).
func (s *Service) moveDefaultTenant(ctx context.Context, tx *store.Tx, actor kit.Actor, newID string, now int64) error {
	if newID == "" {
		return nil
	}
	canon, ok := canonicalUUID(newID)
	if !ok {
		return &KickstartInvalid{Problem: fmt.Sprintf("variables.defaultTenantId %q is not a UUID", newID)}
	}
	oldID, err := adminTenantID(ctx, tx)
	if err != nil {
		return err
	}
	if oldID == canon {
		return nil
	}
	if taken, err := tx.TenantExists(ctx, canon); err != nil {
		return err
	} else if taken {
		return &KickstartInvalid{Problem: fmt.Sprintf("variables.defaultTenantId %s is already the id of another tenant", canon)}
	}
	row, err := tx.TenantByID(ctx, oldID)
	if err != nil {
		return err
	}
	// Sealed secrets are bound to the row id: re-seal them for the new one.
	sec, err := kit.OpenSecrets(s.master, row.SecretsSealed, tenancy.TenantSecretAD(oldID))
	if err != nil {
		return err
	}
	resealed, err := kit.SealSecrets(s.master, sec, tenancy.TenantSecretAD(canon))
	if err != nil {
		return err
	}
	if err := tx.ChangeTenantID(ctx, oldID, canon, resealed, now); err != nil {
		return fmt.Errorf("change the Default tenant's id: %w", err)
	}
	return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Changed the Default tenant's id from %s to %s (kickstart defaultTenantId)", oldID, canon),
		TargetID: canon, Data: map[string]any{"oldId": oldID}})
}

// ClaimKickstart takes a recorded, unfinished run's lease for owner. false
// means another process holds it.
func (s *Service) ClaimKickstart(ctx context.Context, run *store.KickstartRunRow, owner string) (bool, error) {
	now := s.now()
	var ok bool
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ok, err = tx.ClaimKickstartRun(ctx, run.ID, owner, now, now+KickstartLease.Milliseconds())
		return err
	})
	if ok {
		run.LeaseOwner, run.LeaseUntil = owner, now+KickstartLease.Milliseconds()
	}
	return ok, err
}

// ResumeKickstart records, before anything is replayed, the plan a resumed
// run follows: new #{UUID()} values (kept, so a later resume reuses them) and
// the number of requests.
func (s *Service) ResumeKickstart(ctx context.Context, actor kit.Actor, run *store.KickstartRunRow, generated map[string]string, total int) error {
	return s.updateRun(ctx, run, func(tx *store.Tx, r *store.KickstartRunRow) error {
		r.Generated, r.Total, r.Status, r.Error = generated, total, store.KickstartRunning, ""
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Resumed kickstart %s at request %d of %d",
			run.File, r.NextIndex+1, total), TargetID: r.ID})
	})
}

// KickstartStepDone records request idx as completed and renews the lease.
func (s *Service) KickstartStepDone(ctx context.Context, run *store.KickstartRunRow, step store.KickstartStepRow) error {
	return s.updateRun(ctx, run, func(tx *store.Tx, r *store.KickstartRunRow) error {
		step.CompletedInstant = r.LastUpdateInstant
		if err := tx.InsertKickstartStep(ctx, r.ID, &step); err != nil {
			return fmt.Errorf("record kickstart request %d: %w", step.Index+1, err)
		}
		r.NextIndex = step.Index + 1
		return nil
	})
}

// KickstartStopped records why the run stopped and releases it for a resume.
func (s *Service) KickstartStopped(ctx context.Context, actor kit.Actor, run *store.KickstartRunRow, reason string) error {
	return s.updateRun(ctx, run, func(tx *store.Tx, r *store.KickstartRunRow) error {
		r.Status, r.Error, r.LeaseOwner, r.LeaseUntil = store.KickstartFailed, reason, "", 0
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Kickstart " + run.File + " stopped: " + reason, TargetID: r.ID})
	})
}

// ReleaseKickstart gives up the lease without a verdict (the process stops).
func (s *Service) ReleaseKickstart(ctx context.Context, run *store.KickstartRunRow) error {
	return s.updateRun(ctx, run, func(_ *store.Tx, r *store.KickstartRunRow) error {
		r.LeaseOwner, r.LeaseUntil = "", 0
		return nil
	})
}

// CompleteKickstart makes the keys that waited for the requests (see
// BeginKickstart) and marks the run done: the instance never kickstarts
// again. *KickstartInvalid when a key still names what does not exist.
func (s *Service) CompleteKickstart(ctx context.Context, actor kit.Actor, run *store.KickstartRunRow, keys []KickstartKey) error {
	err := s.updateRun(ctx, run, func(tx *store.Tx, r *store.KickstartRunRow) error {
		if err := s.mintKickstartKeys(ctx, tx, actor, keys); err != nil {
			return err
		}
		now := r.LastUpdateInstant
		r.Status, r.Error, r.LeaseOwner, r.LeaseUntil, r.CompletedInstant = store.KickstartCompleted, "", "", 0, &now
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Completed kickstart %s: %d request(s)", run.File, r.Total),
			TargetID: r.ID, Events: []model.Event{{Type: model.EventKickstartSuccess, Body: map[string]any{"instanceId": r.ID}}}})
	})
	if err != nil {
		return err
	}
	s.Keys.Refresh(ctx)
	return nil
}

// updateRun changes a run in one transaction while run's owner still holds
// its lease, renewing it; run is updated only when the change commits.
func (s *Service) updateRun(ctx context.Context, run *store.KickstartRunRow, change func(tx *store.Tx, r *store.KickstartRunRow) error) error {
	owner := run.LeaseOwner
	next := *run
	next.Generated = maps.Clone(run.Generated)
	now := s.now()
	next.LastUpdateInstant = now
	next.LeaseUntil = now + KickstartLease.Milliseconds()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := change(tx, &next); err != nil {
			return err
		}
		err := tx.UpdateKickstartRun(ctx, &next, owner)
		if errors.Is(err, store.ErrNotOne) {
			return errors.New("the kickstart run was taken over by another process (its lease lapsed)")
		}
		return err
	})
	if err != nil {
		return err
	}
	*run = next
	return nil
}
