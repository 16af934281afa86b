-- Secrets inside tenant and application objects (an application's OAuth client
-- secret, a tenant's SMTP password and CAPTCHA secret) are kept out of the
-- JSON data column: they live here, sealed under the master key with the row's
-- id as associated data, as one JSON object of path → value.
ALTER TABLE tenants ADD COLUMN secrets_sealed TEXT;
ALTER TABLE applications ADD COLUMN secrets_sealed TEXT;
