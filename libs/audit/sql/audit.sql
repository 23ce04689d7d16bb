-- The audit log of this service (libs/audit/sql/audit.sql, embedded into each service's
-- migrations; the table lands in the service's own schema). Append-only: PostgreSQL refuses
-- UPDATE, DELETE and TRUNCATE through triggers, whatever the caller. Never a secret, a code or
-- a token in any column: `detail` holds only names, ids and counts.
CREATE TABLE audit (
  id             bigserial PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT clock_timestamp(),
  event          text NOT NULL CHECK (event ~ '^[a-z_]+(\.[a-z_]+)*$'),
  subject        text NOT NULL DEFAULT '',
  client_id      text NOT NULL DEFAULT '',
  source_address text NOT NULL DEFAULT '',
  user_agent     text NOT NULL DEFAULT '',
  request_id     text NOT NULL DEFAULT '',
  detail         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_subject_at ON audit (subject, at);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$body$;

CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
