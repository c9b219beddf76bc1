-- CreateEnum
CREATE TYPE "ChallengeChannel" AS ENUM ('sms_mo', 'sms', 'email');

-- AlterTable
ALTER TABLE "apps" ADD COLUMN     "channels" TEXT[] DEFAULT ARRAY['sms_mo']::TEXT[],
ADD COLUMN     "outbound_countries" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "challenges" ADD COLUMN     "channel" "ChallengeChannel" NOT NULL DEFAULT 'sms_mo',
ADD COLUMN     "phone_sealed" TEXT;

-- The callback body gains `channel`, and `delivery` (the challenge's latest outbound message) for
-- the outbound channels, exactly as toChallengeView builds them (src/challenges/challenge-view.ts),
-- key for key and in this order. The rest is the function of 20261122042000_callback_outbox.
CREATE OR REPLACE FUNCTION "reverse_otp_enqueue_callback"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delivery json;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM "apps" WHERE "id" = NEW."app_id" AND "callback_url" IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  IF NEW."channel" <> 'sms_mo' THEN
    SELECT json_build_object(
             'status', m."status"::text,
             'updatedAt', to_char(m."updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
      INTO delivery
      FROM "outbound_messages" m WHERE m."challenge_id" = NEW."id"
     ORDER BY m."created_at" DESC, m."id" DESC LIMIT 1;
  END IF;
  INSERT INTO "callback_events" ("id", "app_id", "challenge_id", "type", "payload", "next_attempt_at")
  VALUES (
    'evt_' || encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'hex'),
    NEW."app_id",
    NEW."id",
    'challenge.' || NEW."status"::text,
    json_build_object(
      'type', 'challenge.' || NEW."status"::text,
      'data', CASE WHEN delivery IS NULL THEN json_build_object(
        'id', NEW."id",
        'status', NEW."status"::text,
        'purpose', NEW."purpose"::text,
        'phoneMasked', NEW."phone_masked",
        'createdAt', to_char(NEW."created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'expiresAt', to_char(NEW."expires_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'verifiedAt', to_char(NEW."verified_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'consumedAt', to_char(NEW."consumed_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'attemptsRemaining', CASE WHEN NEW."status" = 'failed' THEN 0 ELSE greatest(0, NEW."max_attempts" - NEW."attempts") END,
        'channel', NEW."channel"::text
      ) ELSE json_build_object(
        'id', NEW."id",
        'status', NEW."status"::text,
        'purpose', NEW."purpose"::text,
        'phoneMasked', NEW."phone_masked",
        'createdAt', to_char(NEW."created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'expiresAt', to_char(NEW."expires_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'verifiedAt', to_char(NEW."verified_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'consumedAt', to_char(NEW."consumed_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'attemptsRemaining', CASE WHEN NEW."status" = 'failed' THEN 0 ELSE greatest(0, NEW."max_attempts" - NEW."attempts") END,
        'channel', NEW."channel"::text,
        'delivery', delivery
      ) END
    ),
    coalesce(NEW."finished_at", CURRENT_TIMESTAMP)
  );
  PERFORM pg_notify('reverse_otp_outbox', '');
  RETURN NULL;
END
$$;

-- The sealed phone of a reverse challenge is kept only while it may fall back to `sms`: once the
-- challenge leaves `pending` (or switches channel), whatever path made the change, it is erased.
CREATE FUNCTION "reverse_otp_erase_sealed_phone"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."phone_sealed" := NULL;
  RETURN NEW;
END
$$;

CREATE TRIGGER "challenges_erase_sealed_phone"
  BEFORE UPDATE OF "status", "channel" ON "challenges"
  FOR EACH ROW
  WHEN (NEW."phone_sealed" IS NOT NULL AND (NEW."status" <> 'pending' OR NEW."channel" <> 'sms_mo'))
  EXECUTE FUNCTION "reverse_otp_erase_sealed_phone"();
