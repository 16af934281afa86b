package kickstart

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/access"
)

// Print writes the plan and what happened to each request. Key values and
// request bodies are never printed.
func (o *Outcome) Print(w io.Writer) {
	p := o.Plan
	if p.DefaultTenantID != "" {
		fmt.Fprintf(w, "Default tenant id: %s\n", p.DefaultTenantID)
	}
	made := "made now"
	if o.DryRun {
		made = "to be made"
	}
	if o.Resumed {
		made = "made when the kickstart began"
	}
	fmt.Fprintf(w, "API keys (%d, %s):\n", len(p.Keys), made)
	for i, k := range p.Keys {
		fmt.Fprintf(w, "  %d. %s\n", i+1, describeKey(&k))
	}
	fmt.Fprintf(w, "Requests (%d):\n", len(o.Steps))
	for _, s := range o.Steps {
		state := s.State
		switch s.State {
		case StepOK:
			state = fmt.Sprintf("ok %d", s.Status)
		case StepFailed:
			state = fmt.Sprintf("FAILED %d", s.Status)
		case StepDone:
			state = "done before"
		}
		tenant := ""
		if s.TenantID != "" {
			tenant = " (tenant " + s.TenantID + ")"
		}
		fmt.Fprintf(w, "  %3d. %-12s %s %s%s\n", s.Index+1, state, s.Method, s.URL, tenant)
		if s.State == StepFailed {
			fmt.Fprintf(w, "       %s\n", s.Body)
		}
	}
	if o.KeysError != "" {
		fmt.Fprintf(w, "API keys after the requests: FAILED: %s\n", o.KeysError)
	}
}

func describeKey(k *access.KickstartKey) string {
	var parts []string
	if k.Name != "" {
		parts = append(parts, fmt.Sprintf("%q", k.Name))
	}
	if k.Description != "" {
		parts = append(parts, fmt.Sprintf("description %q", k.Description))
	}
	if k.KeyManager {
		parts = append(parts, "key manager")
	}
	if len(k.Endpoints) == 0 {
		parts = append(parts, "every endpoint")
	} else {
		var eps []string
		for _, ep := range slices.Sorted(maps.Keys(k.Endpoints)) {
			eps = append(eps, ep+" "+strings.Join(k.Endpoints[ep], ","))
		}
		parts = append(parts, "endpoints "+strings.Join(eps, "; "))
	}
	if len(k.TenantIDs) == 0 {
		parts = append(parts, "every tenant")
	} else {
		parts = append(parts, "tenant "+strings.Join(k.TenantIDs, ", "))
	}
	if k.Retrievable {
		parts = append(parts, "retrievable")
	}
	return strings.Join(parts, ", ")
}
