// Package sysconfig is FusionAuth's system configuration
// (/api/system-configuration): one JSON document of which Latch interprets
// corsConfiguration (the browser origins the OAuth surface answers) and
// keeps every other member as sent, so that it round-trips. Nodes keep the
// CORS policy in memory and reload it when the cache version moves.
package sysconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

const (
	wrapper  = "systemConfiguration"
	corsName = "corsConfiguration"
	// defaultPreflightMaxAge is FusionAuth's default (30 minutes).
	defaultPreflightMaxAge = 1800
)

// httpMethods are the methods allowedMethods may name.
var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}

// Service reads and changes the system configuration.
type Service struct {
	store *store.Store
	clock kit.Clock
	log   *slog.Logger
	audit *audit.Log

	cors      atomic.Pointer[model.CORSConfiguration]
	version   atomic.Int64
	refreshMu sync.Mutex
}

// New builds the service; Refresh loads the policy.
func New(st *store.Store, clock kit.Clock, log *slog.Logger, a *audit.Log) *Service {
	s := &Service{store: st, clock: clock, log: log, audit: a}
	d := defaultCORS()
	s.cors.Store(&d)
	s.version.Store(-1)
	return s
}

// defaultCORS is the policy of a fresh install: off, so no origin may read
// an answer until an administrator names one.
func defaultCORS() model.CORSConfiguration {
	return model.CORSConfiguration{AllowedHeaders: []string{}, AllowedMethods: []string{}, AllowedOrigins: []string{},
		ExposedHeaders: []string{}, PreflightMaxAgeInSeconds: defaultPreflightMaxAge}
}

// CORS is this node's current policy; it never blocks.
func (s *Service) CORS() *model.CORSConfiguration { return s.cors.Load() }

// Get returns the document, {"systemConfiguration":{…}}'s inner object.
func (s *Service) Get(ctx context.Context) (kit.Object, error) {
	doc, _, err := load(ctx, s.store.Read())
	return doc, err
}

// load reads the stored document (the defaults when none is) and its CORS part.
func load(ctx context.Context, rd *store.Tx) (kit.Object, *model.CORSConfiguration, error) {
	raw, ok, err := rd.Setting(ctx, store.SettingSystemConfiguration)
	if err != nil {
		return nil, nil, err
	}
	doc := kit.Object{}
	if ok {
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			return nil, nil, fmt.Errorf("stored system configuration: %w", err)
		}
	}
	cors, err := corsOf(doc, "")
	if err != nil {
		return nil, nil, fmt.Errorf("stored system configuration: %w", err)
	}
	doc[corsName] = cors
	return doc, cors, nil
}

// corsOf decodes and checks the document's corsConfiguration (defaults for
// what it leaves out).
func corsOf(doc kit.Object, prefix string) (*model.CORSConfiguration, error) {
	c := defaultCORS()
	if v, ok := doc[corsName]; ok && v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if err := model.UnmarshalExact(b, &c, prefix+corsName); err != nil {
			var verrs *model.Errors
			if errors.As(err, &verrs) {
				return nil, err
			}
			return nil, model.FieldError(prefix+corsName, "invalid", "The corsConfiguration is not valid: "+err.Error())
		}
	}
	return &c, checkCORS(&c, prefix+corsName)
}

func checkCORS(c *model.CORSConfiguration, field string) error {
	verrs := &model.Errors{}
	for i, o := range c.AllowedOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			verrs.Field(field+".allowedOrigins", "invalid", fmt.Sprintf("allowedOrigins[%d] must be an origin such as https://app.example.com, or *.", i))
			continue
		}
		c.AllowedOrigins[i] = strings.ToLower(u.Scheme + "://" + u.Host)
	}
	for i, m := range c.AllowedMethods {
		m = strings.ToUpper(strings.TrimSpace(m))
		if !slices.Contains(httpMethods, m) {
			verrs.Field(field+".allowedMethods", "invalid", fmt.Sprintf("allowedMethods[%d] must be an HTTP method.", i))
		}
		c.AllowedMethods[i] = m
	}
	for i, h := range c.AllowedHeaders {
		if h = strings.TrimSpace(h); h == "" || strings.ContainsAny(h, " ,:\r\n") {
			verrs.Field(field+".allowedHeaders", "invalid", fmt.Sprintf("allowedHeaders[%d] must be a header name.", i))
		}
	}
	for i, h := range c.ExposedHeaders {
		if h = strings.TrimSpace(h); h == "" || strings.ContainsAny(h, " ,:\r\n") {
			verrs.Field(field+".exposedHeaders", "invalid", fmt.Sprintf("exposedHeaders[%d] must be a header name.", i))
		}
	}
	if c.PreflightMaxAgeInSeconds < 0 || c.PreflightMaxAgeInSeconds > 86400 {
		verrs.Field(field+".preflightMaxAgeInSeconds", "invalid", "preflightMaxAgeInSeconds must be between 0 and 86400.")
	}
	return verrs.Err()
}

// Update replaces the document (PUT).
func (s *Service) Update(ctx context.Context, actor kit.Actor, doc kit.Object) (kit.Object, error) {
	return s.change(ctx, actor, func(kit.Object) (kit.Object, error) { return doc, nil })
}

// Patch applies a PATCH in the form its Content-Type names to
// {"systemConfiguration":{…}}.
func (s *Service) Patch(ctx context.Context, actor kit.Actor, form model.PatchForm, body []byte) (kit.Object, error) {
	return s.change(ctx, actor, func(cur kit.Object) (kit.Object, error) {
		b, err := json.Marshal(kit.Object{wrapper: cur})
		if err != nil {
			return nil, err
		}
		tree, err := model.DecodeJSONValue(b)
		if err != nil {
			return nil, err
		}
		patched, err := model.ApplyPatch(form, tree, body)
		if err != nil {
			return nil, err
		}
		m, ok := patched.(map[string]any)
		if !ok {
			return nil, model.GeneralError(model.CodeInvalidJSON, "The patched request is not an object.")
		}
		inner, ok := m[wrapper].(map[string]any)
		if !ok {
			return nil, model.FieldError(wrapper, "required", "The request needs a systemConfiguration object.")
		}
		return inner, nil
	})
}

// change computes, checks and stores the new document with its audit entry
// in one transaction, then reloads this node's policy.
func (s *Service) change(ctx context.Context, actor kit.Actor, next func(cur kit.Object) (kit.Object, error)) (kit.Object, error) {
	var out kit.Object
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, _, err := load(ctx, tx)
		if err != nil {
			return err
		}
		doc, err := next(cloneObject(cur))
		if err != nil {
			return err
		}
		if doc == nil {
			return model.FieldError(wrapper, "required", "The request needs a systemConfiguration object.")
		}
		cors, err := corsOf(doc, wrapper+".")
		if err != nil {
			return err
		}
		doc[corsName] = cors
		now := s.clock.Now().UnixMilli()
		doc["insertInstant"] = cur["insertInstant"]
		if doc["insertInstant"] == nil {
			doc["insertInstant"] = now
		}
		doc["lastUpdateInstant"] = now
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, store.SettingSystemConfiguration, string(b)); err != nil {
			return err
		}
		if err := tx.BumpCacheVersion(ctx, store.CacheSystemConfiguration); err != nil {
			return err
		}
		out = doc
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Updated the system configuration", Old: cur, New: doc})
	})
	if err != nil {
		return nil, err
	}
	s.Refresh(ctx)
	return out, nil
}

func cloneObject(o kit.Object) kit.Object {
	b, _ := json.Marshal(o)
	var c kit.Object
	_ = json.Unmarshal(b, &c)
	return c
}

// Refresh reloads the policy. Errors are logged: the old policy keeps
// serving until the database answers again.
func (s *Service) Refresh(ctx context.Context) {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	rd := s.store.Read()
	version, err := rd.CacheVersion(ctx, store.CacheSystemConfiguration)
	if err == nil {
		var cors *model.CORSConfiguration
		if _, cors, err = load(ctx, rd); err == nil {
			s.cors.Store(cors)
			s.version.Store(version)
			return
		}
	}
	s.log.WarnContext(ctx, "system configuration refresh failed", "err", err)
}

// Run keeps the policy current until ctx ends, checking the cache version
// every pollEvery.
func (s *Service) Run(ctx context.Context, pollEvery time.Duration) {
	kit.Every(ctx, pollEvery, func() {
		v, err := s.store.Read().CacheVersion(ctx, store.CacheSystemConfiguration)
		if err == nil && v != s.version.Load() {
			s.Refresh(ctx)
		}
	})
}
