-- The attempt that used a refresh token: the same attempt again (a retried call after an
-- instance died mid-call) is not a reuse.
ALTER TABLE refresh_tokens ADD COLUMN used_by_attempt text;
