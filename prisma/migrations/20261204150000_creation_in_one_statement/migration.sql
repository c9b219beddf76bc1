-- A reverse challenge's creation in one statement, one round trip (src/challenges/challenge-sql.ts,
-- CREATE_PLAIN_SQL, explains when it is used and what the application does with its answer).
--
-- In this order, in the caller's transaction (one statement: its own implicit transaction):
--   1. the phone's advisory lock (the same key as the two-round-trip path: both serialise on it);
--   2. the phone's stale pending challenges (any app) expire;
--   3. the facts the creation decision needs, read after the lock: the phone's wrong-code row at this
--      app, this client's pending challenges of the phone (oldest first), its creations in the window;
--   4. only for a plain creation (no wrong-code row at all, fewer than p_limit creations in the
--      window, at most p_max_pending_before pending challenges: the decision is then "create, with no
--      attempts carried and nothing replaced"), the challenge is inserted, with 0 attempts.
-- It returns the facts, whether it inserted, and the E.164 of the challenge's number.
--
-- VOLATILE (the default): each statement inside takes its own snapshot, so the reads after the lock
-- see everything the lock's previous holder committed. A unique violation (the code is taken among
-- the phone's pending challenges, or the Idempotency-Key was used meanwhile) fails the statement,
-- and all of it is rolled back. plan_cache_mode: the statements inside are planned once per
-- connection (generic plans: index scans on the phone's digest); with custom plans, PostgreSQL planned
-- them again at every call, for arrays of digests whose length it cannot know.
CREATE FUNCTION "reverse_otp_create_challenge"(
  p_lock_key text, p_app_id text, p_phone_hashes text[], p_client_hashes text[], p_now timestamptz,
  p_window_start timestamptz, p_limit integer, p_max_pending_before integer,
  p_id text, p_virtual_number_id text, p_phone_hash text, p_phone_masked text, p_phone_country text,
  p_code_hash text, p_poll_token_hash text, p_purpose "Purpose", p_context jsonb, p_locale text,
  p_max_attempts integer, p_idempotency_key text, p_request_fingerprint text, p_client_hash text,
  p_expires_at timestamptz, p_channel "ChallengeChannel", p_phone_sealed text,
  OUT out_failures integer, OUT out_locked_until timestamptz, OUT out_failure_updated_at timestamptz,
  OUT out_pending_ids text[], OUT out_created_in_window integer, OUT out_oldest_in_window timestamptz,
  OUT out_inserted boolean, OUT out_virtual_number text)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_lock_key, 0));

  UPDATE challenges c SET status = 'expired', finished_at = p_now
   WHERE c.phone_hash = ANY(p_phone_hashes) AND c.status = 'pending' AND c.expires_at <= p_now;

  SELECT f.failures, f.locked_until, f.updated_at INTO out_failures, out_locked_until, out_failure_updated_at
    FROM phone_failures f
   WHERE f.app_id = p_app_id AND f.phone_hash = ANY(p_phone_hashes)
   ORDER BY f.updated_at DESC LIMIT 1;

  out_pending_ids := ARRAY(
    SELECT c.id FROM challenges c
     WHERE c.app_id = p_app_id AND c.phone_hash = ANY(p_phone_hashes) AND c.client_hash = ANY(p_client_hashes)
       AND c.status = 'pending'
     ORDER BY c.created_at, c.id);

  SELECT count(*)::integer, min(c.created_at) INTO out_created_in_window, out_oldest_in_window
    FROM challenges c
   WHERE c.app_id = p_app_id AND c.phone_hash = ANY(p_phone_hashes) AND c.client_hash = ANY(p_client_hashes)
     AND c.created_at > p_window_start;

  out_inserted := out_failure_updated_at IS NULL
              AND out_created_in_window < p_limit
              AND cardinality(out_pending_ids) <= p_max_pending_before;
  IF out_inserted THEN
    INSERT INTO challenges (id, app_id, virtual_number_id, phone_hash, phone_masked, phone_country, code_hash,
                            poll_token_hash, purpose, context, locale, max_attempts, attempts, idempotency_key,
                            request_fingerprint, client_hash, created_at, expires_at, channel, phone_sealed)
    VALUES (p_id, p_app_id, p_virtual_number_id, p_phone_hash, p_phone_masked, p_phone_country, p_code_hash,
            p_poll_token_hash, p_purpose, p_context, p_locale, p_max_attempts, 0, p_idempotency_key,
            p_request_fingerprint, p_client_hash, p_now, p_expires_at, p_channel, p_phone_sealed);
    SELECT n.e164 INTO out_virtual_number FROM virtual_numbers n WHERE n.id = p_virtual_number_id;
  END IF;
END
$$;
