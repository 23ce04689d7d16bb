-- The phone scope's claims (OIDC Core §5.4): a contact number, not a second factor (those are
-- mfa's).
ALTER TABLE accounts
  ADD COLUMN phone_number text NOT NULL DEFAULT '',
  ADD COLUMN phone_number_verified boolean NOT NULL DEFAULT false;
