-- Status changes fan out to every instance through LISTEN/NOTIFY. A trigger (not application
-- code) sends the notification, so no path that changes a challenge can forget it, and it is sent
-- by the transaction that makes the change: PostgreSQL delivers it at commit, never before.
-- The payload is only the challenge id; listeners re-read what they need.
CREATE FUNCTION "reverse_otp_notify_challenge"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('reverse_otp_challenge', NEW."id");
  RETURN NULL;
END
$$;

CREATE TRIGGER "challenges_notify_change"
  AFTER UPDATE OF "status", "consumed_at" ON "challenges"
  FOR EACH ROW
  WHEN (OLD."status" IS DISTINCT FROM NEW."status" OR OLD."consumed_at" IS DISTINCT FROM NEW."consumed_at")
  EXECUTE FUNCTION "reverse_otp_notify_challenge"();
