#!/usr/bin/env bash
# A load run: a freshly built latch under mixed traffic (logins, refresh token
# exchanges, JWT validations, user writes, key-authenticated reads) for
# SOAK_DURATION (default 15m) at SOAK_RATE requests/s (default 100). Prints
# Markdown for BENCHMARKS.md: statuses and 5xx per operation, p50/p99 latency,
# server RSS. SOAK_DATABASE_URL runs it on PostgreSQL. Not part of scripts/test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/latch" ./cmd/latch
go build -o "$work/soak" ./bench/soak
args=(-bin "$work/latch" -duration "${SOAK_DURATION:-15m}" -rate "${SOAK_RATE:-100}" -workers "${SOAK_WORKERS:-16}")
if [[ -n ${SOAK_DATABASE_URL:-} ]]; then
	args+=(-database-url "$SOAK_DATABASE_URL")
fi
"$work/soak" "${args[@]}"
