// Package docs embeds the documents the server itself shows: the
// break-glass runbook, linked from the admin UI's key-safety panel.
package docs

import _ "embed"

// Runbook is docs/runbook.md.
//
//go:embed runbook.md
var Runbook string
