package kickstart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
)

// Runner replays kickstart files on one instance.
type Runner struct {
	Svc *services.Set
	// Handler is the /api handler chain real requests go through (the
	// app's api.Server behind its middleware): permissions, validation and
	// audit apply to each replayed request unchanged.
	Handler http.Handler
	// Getenv reads #{ENV.NAME}.
	Getenv func(string) string
	Log    *slog.Logger
}

// Options adjust a run.
type Options struct {
	// DryRun replays every remaining request even after one fails, records
	// no progress, and is meant for a throwaway copy of the instance.
	DryRun bool
}

// Step states in an Outcome.
const (
	StepDone    = "done"    // completed by an earlier attempt: not replayed
	StepOK      = "ok"      // replayed now, 2xx
	StepFailed  = "failed"  // replayed now, refused
	StepPending = "pending" // not reached
)

// Step is what happened to one request.
type Step struct {
	Request
	State  string
	Status int
	Body   string // the error body of a failed request
}

// Outcome describes a run, for printing.
type Outcome struct {
	Plan    *Plan
	DryRun  bool
	Began   bool // this run made the keys (as opposed to resuming)
	Resumed bool
	Steps   []Step
	Failed  int
	// KeysError says why the keys made after the requests could not be made.
	KeysError string
}

// RequestError is a request the server refused; the run stopped there and
// resumes there once the file is fixed.
type RequestError struct {
	File   string
	Index  int // 0-based
	Total  int
	Method string
	URL    string
	Status int
	Body   string
}

func (e *RequestError) Error() string {
	n := e.Index + 1
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " (the first API key was refused for this request)"
	case http.StatusNotFound:
		hint = " (no such API route, or the object it names does not exist)"
	}
	done := "no request before it"
	if n == 2 {
		done = "request 1 stays done and is not replayed"
	}
	if n > 2 {
		done = fmt.Sprintf("requests 1–%d stay done and are not replayed", n-1)
	}
	return fmt.Sprintf("kickstart %s stopped at request %d of %d (%s %s): the server answered %d%s: %s. "+
		"Fix the file and start Latch again, or run `latch kickstart %s`: the kickstart resumes at request %d; %s.",
		e.File, n, e.Total, e.Method, e.URL, e.Status, hint, e.Body, e.File, n, done)
}

// Run runs the kickstart file at path on the instance: it begins a new run on
// a fresh instance, or resumes the instance's unfinished one. It returns
// *access.KickstartRefused when the instance does not run it (nothing written),
// *FileError for a bad file (nothing written), *RequestError when a request
// was refused (the run stopped and will resume there).
func (r *Runner) Run(ctx context.Context, path string, opt Options) (*Outcome, error) {
	st, err := r.Svc.Access.KickstartState(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the kickstart state: %w", err)
	}
	if st.Run != nil && st.Run.Status == store.KickstartCompleted {
		at := ""
		if st.Run.CompletedInstant != nil {
			at = " at " + time.UnixMilli(*st.Run.CompletedInstant).UTC().Format(time.RFC3339)
		}
		return nil, &access.KickstartRefused{Reason: fmt.Sprintf("this instance was already kickstarted (by %s%s); a kickstart runs once, on a fresh instance", st.Run.File, at)}
	}
	if st.Run == nil && st.NotFresh != "" {
		return nil, &access.KickstartRefused{Reason: st.NotFresh + "; a kickstart runs only on a fresh instance (no API key, user or tenant beyond the Default one)"}
	}
	env := Env{Getenv: r.Getenv, NowMillis: r.Svc.Clock().Now().UnixMilli(), Builtins: map[string]string{
		VarApplicationID:     model.AdminApplicationID,
		VarTenantID:          st.DefaultTenantID,
		VarDefaultSigningKey: st.DefaultSigningKeyID,
	}}
	if st.Run != nil {
		env.Generated = st.Run.Generated
	}
	plan, err := Load(path, env)
	if err != nil {
		return nil, err
	}
	for _, n := range plan.Notes {
		r.Log.InfoContext(ctx, "kickstart: "+n, "file", path)
	}
	out := &Outcome{Plan: plan, DryRun: opt.DryRun}
	for _, req := range plan.Requests {
		out.Steps = append(out.Steps, Step{Request: req, State: StepPending})
	}
	actor := access.KickstartActor(path)
	owner := uuid.NewString()
	var run *store.KickstartRunRow
	if st.Run == nil {
		run, err = r.Svc.Access.BeginKickstart(ctx, actor, access.KickstartBegin{File: path, KeysHash: plan.KeysHash,
			DefaultTenantID: plan.DefaultTenantID, Keys: plan.Keys, Generated: plan.Generated,
			Total: len(plan.Requests), Owner: owner})
		if err != nil {
			var invalid *access.KickstartInvalid
			if errors.As(err, &invalid) {
				return nil, &FileError{File: path, Problems: []string{invalid.Problem}}
			}
			return nil, err
		}
		out.Began = true
		r.Log.InfoContext(ctx, "kickstart began", "file", path, "apiKeys", len(plan.Keys), "requests", len(plan.Requests))
	} else {
		run = st.Run
		if err := checkResume(path, plan, st); err != nil {
			return nil, err
		}
		if !opt.DryRun {
			ok, err := r.Svc.Access.ClaimKickstart(ctx, run, owner)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, &access.KickstartRefused{Reason: fmt.Sprintf("another process is running this instance's kickstart (its claim lasts until %s at most)",
					time.UnixMilli(run.LeaseUntil).UTC().Format(time.RFC3339))}
			}
			if err := r.Svc.Access.ResumeKickstart(ctx, actor, run, plan.Generated, len(plan.Requests)); err != nil {
				r.release(ctx, run)
				return nil, err
			}
		}
		out.Resumed = true
		r.Log.InfoContext(ctx, "kickstart resumed", "file", path, "at", run.NextIndex+1, "requests", len(plan.Requests))
	}
	for i := 0; i < run.NextIndex && i < len(out.Steps); i++ {
		out.Steps[i].State = StepDone
	}
	key := plan.Keys[0].Value
	for i := run.NextIndex; i < len(plan.Requests); i++ {
		if err := ctx.Err(); err != nil {
			if !opt.DryRun {
				r.release(ctx, run)
			}
			return out, err
		}
		req := plan.Requests[i]
		status, body := r.send(ctx, path, key, req, plan.ReadTimeout)
		step := &out.Steps[i]
		step.Status = status
		r.Log.InfoContext(ctx, "kickstart request", "n", i+1, "of", len(plan.Requests), "method", req.Method, "path", req.Path(), "status", status)
		if status >= 200 && status < 300 {
			step.State = StepOK
			if opt.DryRun {
				continue
			}
			if err := r.Svc.Access.KickstartStepDone(ctx, run, store.KickstartStepRow{Index: i, Hash: req.Hash, Method: req.Method,
				URL: req.URL, StatusCode: status}); err != nil {
				r.release(ctx, run)
				return out, fmt.Errorf("kickstart request %d was done, but recording it failed (a resume will replay it): %w", i+1, err)
			}
			continue
		}
		step.State, step.Body = StepFailed, describeBody(body)
		out.Failed++
		if opt.DryRun {
			continue
		}
		rerr := &RequestError{File: path, Index: i, Total: len(plan.Requests), Method: req.Method, URL: req.URL,
			Status: status, Body: step.Body}
		// Recorded even when ctx is cancelled: the next attempt must know.
		if err := r.Svc.Access.KickstartStopped(context.WithoutCancel(ctx), actor, run,
			fmt.Sprintf("request %d (%s %s) answered %d: %s", i+1, req.Method, req.URL, status, step.Body)); err != nil {
			r.Log.ErrorContext(ctx, "kickstart: recording the failure failed", "err", err)
		}
		return out, rerr
	}
	if opt.DryRun && out.Failed > 0 {
		return out, nil // keys waiting for failed requests would fail too
	}
	if err := r.Svc.Access.CompleteKickstart(ctx, actor, run, plan.Keys); err != nil {
		var invalid *access.KickstartInvalid
		if !errors.As(err, &invalid) {
			if !opt.DryRun {
				r.release(ctx, run)
			}
			return out, fmt.Errorf("kickstart requests all done, but recording completion failed: %w", err)
		}
		out.KeysError = invalid.Problem + " (API keys limited to a tenant or IP ACL that a request makes are made after the requests)"
		if opt.DryRun {
			return out, nil
		}
		if err := r.Svc.Access.KickstartStopped(context.WithoutCancel(ctx), actor, run, out.KeysError); err != nil {
			r.Log.ErrorContext(ctx, "kickstart: recording the failure failed", "err", err)
		}
		return out, &FileError{File: path, Problems: []string{out.KeysError + "; every request is done: fix the file (a request may be added) and run it again to finish"}}
	}
	if opt.DryRun {
		return out, nil
	}
	r.Log.InfoContext(ctx, "kickstart completed", "file", path, "requests", len(plan.Requests))
	return out, nil
}

func (r *Runner) release(ctx context.Context, run *store.KickstartRunRow) {
	if err := r.Svc.Access.ReleaseKickstart(context.WithoutCancel(ctx), run); err != nil {
		r.Log.WarnContext(ctx, "kickstart: releasing the run failed; another attempt can take it over once its claim lapses", "err", err)
	}
}

// checkResume refuses a file that no longer matches what already happened:
// the keys (made when the run began) and each completed request.
func checkResume(path string, plan *Plan, st *access.KickstartState) error {
	fail := func(msg string) error { return &FileError{File: path, Problems: []string{msg}} }
	if plan.KeysHash != st.Run.KeysHash {
		return fail("its apiKeys (or variables.defaultTenantId) changed since the kickstart began on this instance (" + st.Run.File +
			"); they took effect then and cannot change on a resume: restore them, and fix only the requests from the one that failed")
	}
	if len(plan.Requests) < st.Run.NextIndex {
		return fail(fmt.Sprintf("it has %d request(s), but %d were already completed on this instance; "+
			"a resume needs the completed requests unchanged", len(plan.Requests), st.Run.NextIndex))
	}
	var changed []string
	for _, s := range st.Steps {
		if s.Index >= len(plan.Requests) || plan.Requests[s.Index].Hash != s.Hash {
			changed = append(changed, fmt.Sprintf("request %d (was %s %s)", s.Index+1, s.Method, s.URL))
		}
	}
	if len(changed) > 0 {
		return fail(strings.Join(changed, ", ") + " already completed on this instance but changed in the file since; " +
			"a resume replays only the requests from the one that failed, so restore the completed ones as they were")
	}
	return nil
}

// send replays one request through the API handler, in-process, with the
// first key, marked as the kickstart's for the audit log.
func (r *Runner) send(ctx context.Context, file, key string, req Request, timeoutMillis int64) (int, []byte) {
	ctx = access.WithKickstart(ctx, file)
	if timeoutMillis > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(timeoutMillis)*time.Millisecond)
		defer cancel()
	}
	var body *bytes.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	} else {
		body = bytes.NewReader(nil)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return http.StatusBadRequest, []byte(`{"generalErrors":[{"code":"[invalid]url","message":"` + err.Error() + `"}]}`)
	}
	// As the server would see it: the request line, a peer, a host.
	hr.RequestURI = req.URL
	hr.RemoteAddr = "127.0.0.1:0"
	hr.Host = "localhost"
	hr.Header.Set("Authorization", key)
	if req.Body != nil {
		ct := req.ContentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if req.TenantID != "" {
		hr.Header.Set("X-FusionAuth-TenantId", req.TenantID)
	}
	w := &recorder{header: http.Header{}}
	r.Handler.ServeHTTP(w, hr)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.status, w.body.Bytes()
}

// recorder is an in-memory ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
