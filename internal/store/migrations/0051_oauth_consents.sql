-- Scopes a user allowed a third-party application (oauthConfiguration
-- relationship ThirdParty, consentMode RememberDecision) on the hosted
-- consent page: a space-separated set, widened by each later consent.
CREATE TABLE oauth_consents (
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id     TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope              TEXT NOT NULL,
    insert_instant     BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL,
    PRIMARY KEY (user_id, application_id)
);
CREATE INDEX oauth_consents_application ON oauth_consents (application_id);
