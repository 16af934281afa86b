-- Sessions ended for good: access and refresh tokens issued before
-- not_before (epoch ms) are refused. application_id '' covers every
-- application of the user (deactivation, password change, deletion); an
-- application's id covers that registration (its deletion). No foreign key:
-- a cut-off outlives a user deleted and created again with the same id.
CREATE TABLE token_cutoffs (
    user_id        TEXT NOT NULL,
    application_id TEXT NOT NULL,
    not_before     BIGINT NOT NULL,
    PRIMARY KEY (user_id, application_id)
);
