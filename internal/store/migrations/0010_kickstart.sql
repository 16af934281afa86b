-- Kickstart state, so that a kickstart stopped by a failing request resumes
-- where it stopped once the file is fixed. An instance is kickstarted once:
-- the singleton column allows one run, and the insert of that row is how two
-- starters racing on a fresh instance agree on who runs it.
CREATE TABLE kickstart_runs (
    id                  TEXT PRIMARY KEY,
    singleton           INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1),
    file                TEXT NOT NULL,
    -- SHA-256 of the resolved apiKeys and defaultTenantId: they take effect
    -- when the run begins and cannot change on a resume.
    keys_hash           TEXT NOT NULL,
    -- The #{UUID()} values by slot (JSON object), so a resumed run sends the
    -- same ids as the first attempt.
    generated           TEXT NOT NULL DEFAULT '{}',
    total               INTEGER NOT NULL,
    next_index          INTEGER NOT NULL DEFAULT 0,
    status              TEXT NOT NULL,
    error               TEXT NOT NULL DEFAULT '',
    -- Who is running it now, and until when (epoch millis): nodes started
    -- together with the same file must not replay requests twice.
    lease_owner         TEXT NOT NULL DEFAULT '',
    lease_until         BIGINT NOT NULL DEFAULT 0,
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL,
    completed_instant   BIGINT
);

-- One row per completed request, with the SHA-256 of the request as it was
-- sent: a file whose completed requests changed is refused on resume.
CREATE TABLE kickstart_steps (
    run_id            TEXT NOT NULL REFERENCES kickstart_runs (id) ON DELETE CASCADE,
    idx               INTEGER NOT NULL,
    hash              TEXT NOT NULL,
    method            TEXT NOT NULL,
    url               TEXT NOT NULL,
    status_code       INTEGER NOT NULL,
    completed_instant BIGINT NOT NULL,
    PRIMARY KEY (run_id, idx)
);
