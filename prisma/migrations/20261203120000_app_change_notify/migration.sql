-- Changes of apps, their keys and numbers fan out to every instance through LISTEN/NOTIFY, so each
-- instance may cache keys and app settings (src/apps/app-cache.ts) and drop them when they change:
-- a revoked key, a rotation or a new policy reaches every instance at commit. A trigger (not
-- application code) sends it, so changes made by the CLI, another instance or plain SQL are seen
-- too. The payload is only the app's id; listeners drop what they hold of that app.
CREATE FUNCTION "reverse_otp_notify_app"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'apps' THEN
    PERFORM pg_notify('reverse_otp_app', COALESCE(NEW."id", OLD."id"));
  ELSE
    PERFORM pg_notify('reverse_otp_app', COALESCE(NEW."app_id", OLD."app_id"));
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "apps_notify_change"
  AFTER UPDATE OR DELETE ON "apps"
  FOR EACH ROW EXECUTE FUNCTION "reverse_otp_notify_app"();

CREATE TRIGGER "api_keys_notify_change"
  AFTER INSERT OR UPDATE OR DELETE ON "api_keys"
  FOR EACH ROW EXECUTE FUNCTION "reverse_otp_notify_app"();

CREATE TRIGGER "virtual_numbers_notify_change"
  AFTER INSERT OR UPDATE OR DELETE ON "virtual_numbers"
  FOR EACH ROW EXECUTE FUNCTION "reverse_otp_notify_app"();
