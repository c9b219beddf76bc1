-- CreateTable
CREATE TABLE "callback_events" (
    "id" TEXT NOT NULL,
    "app_id" TEXT NOT NULL,
    "challenge_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSON NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "gave_up_at" TIMESTAMPTZ(3),
    "last_status" INTEGER,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "callback_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "callback_events_next_attempt_at_idx" ON "callback_events"("next_attempt_at");

-- CreateIndex
CREATE INDEX "callback_events_challenge_id_idx" ON "callback_events"("challenge_id");

-- CreateIndex
CREATE INDEX "callback_events_app_id_created_at_idx" ON "callback_events"("app_id", "created_at");

-- AddForeignKey
ALTER TABLE "callback_events" ADD CONSTRAINT "callback_events_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "callback_events" ADD CONSTRAINT "callback_events_challenge_id_fkey" FOREIGN KEY ("challenge_id") REFERENCES "challenges"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Transactional outbox of callbacks. A trigger (not application code) writes the event, so every
-- path that gives a challenge a final status writes it, in the same transaction: the event exists
-- if and only if the status change committed. Only apps with a callback URL get events.
--
-- `data` is built here exactly like toChallengeView (src/challenges/challenge-view.ts), the JSON of
-- GET /v1/challenges/:id: dates as JavaScript's toISOString (UTC, milliseconds, "Z"; the columns
-- hold milliseconds), attemptsRemaining 0 once failed. test/integration/callbacks.test.ts compares
-- the two for every final status.
--
-- The event id is the Standard Webhooks `webhook-id`: two random UUIDs (2 × 122 random bits, from
-- PostgreSQL's built-in gen_random_uuid) in hex. The event is due at the change's `finished_at`
-- (the service's clock, which the dispatcher also uses), then NOTIFY wakes the dispatchers at commit.
CREATE FUNCTION "reverse_otp_enqueue_callback"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM "apps" WHERE "id" = NEW."app_id" AND "callback_url" IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  INSERT INTO "callback_events" ("id", "app_id", "challenge_id", "type", "payload", "next_attempt_at")
  VALUES (
    'evt_' || encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'hex'),
    NEW."app_id",
    NEW."id",
    'challenge.' || NEW."status"::text,
    json_build_object(
      'type', 'challenge.' || NEW."status"::text,
      'data', json_build_object(
        'id', NEW."id",
        'status', NEW."status"::text,
        'purpose', NEW."purpose"::text,
        'phoneMasked', NEW."phone_masked",
        'createdAt', to_char(NEW."created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'expiresAt', to_char(NEW."expires_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'verifiedAt', to_char(NEW."verified_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'consumedAt', to_char(NEW."consumed_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'attemptsRemaining', CASE WHEN NEW."status" = 'failed' THEN 0 ELSE greatest(0, NEW."max_attempts" - NEW."attempts") END
      )
    ),
    coalesce(NEW."finished_at", CURRENT_TIMESTAMP)
  );
  PERFORM pg_notify('reverse_otp_outbox', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER "challenges_enqueue_callback"
  AFTER UPDATE OF "status" ON "challenges"
  FOR EACH ROW
  WHEN (OLD."status" IS DISTINCT FROM NEW."status" AND NEW."status" <> 'pending')
  EXECUTE FUNCTION "reverse_otp_enqueue_callback"();
