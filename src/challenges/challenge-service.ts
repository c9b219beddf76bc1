// Challenges: creation (with Idempotency-Key), reads, cancel and consume, and the housekeeping of the
// maintenance jobs. Authorisation is decided here (the app comes from the key, never from the
// body); HTTP shaping lives in the routes. Verification is verification.ts's.
import type { AppDirectory, AppPolicy } from "../apps/app-directory.js";
import type { Principal } from "../apps/app-service.js";
import type { Clock } from "../shared/clock.js";
import { randomId, safeEqual, type Hasher, type Sealer } from "../shared/crypto.js";
import { AppError } from "../shared/errors.js";
import type { ChallengePurgeCutoffs, ChallengePurgeTable, ChallengeRepository, CreationChoice, ReadChallenge, StoredChallenge } from "./challenge-repository.js";
import type { CreatedChallenge } from "./challenge-schemas.js";
import { FINAL_STATUSES, toChallengeView, type ChallengeView } from "./challenge-view.js";
import type { StatusBus } from "../realtime/status-bus.js";
import type { CodePolicy } from "./code-policy.js";
import { decideCreation, phoneWindowStart, type CreationFacts, type CreationRefusal } from "./creation-decision.js";
import { deriveCode, derivePollToken } from "./derived-secrets.js";
import { parsePhone } from "./phone.js";
import { chooseChannel, mayFallBackToSms, type ChosenChannel } from "./channels.js";
import { checkCodeMaySend, codeMessageScript, enqueueCodeMessage, type CodeSending, type OutboundChoice } from "./code-message.js";
import type { EnqueuedMessage } from "../outbound/outbox.js";
import type { Channel } from "./challenge-schemas.js";
import type { Verification } from "./verification.js";
import { effectiveStatus } from "./challenge-view.js";
import { buildSmsBody, buildSmsUris, resolveLocale, type Locale, type Purpose } from "./sms-text.js";

export type ChallengeContext = { amount?: string; currency?: string; merchant?: string; description?: string };

export type CreateChallengeInput = {
  phone: string;
  country?: string;
  purpose: Purpose;
  context?: ChallengeContext;
  locale?: string;
  /** `sms_mo` (default), `sms` or `email` (with `email`); the app must allow it. */
  channel?: Channel;
  email?: string;
};

/** The answer to a creation; its shape is `createdChallengeSchema` (challenge-schemas.ts). */
export type { CreatedChallenge } from "./challenge-schemas.js";

export type ChallengeAccess = { principal?: Principal; pollToken?: string };

/** Draws of a new code when it collides with a pending challenge of the same phone. */
const MAX_CODE_DRAWS = 8;

export type ChallengeServiceDeps = {
  challenges: ChallengeRepository;
  /** Challenges per phone and app per hour, unless the app overrides it. */
  phonePerHour: number;
  /** Tells of changes to challenges made on any instance (LISTEN/NOTIFY fan-out). */
  bus: Pick<StatusBus, "subscribe" | "ready">;
  apps: Pick<AppDirectory, "findApp">;
  hasher: Hasher;
  /** The key that derives codes and poll tokens of idempotent requests (the primary HASH_KEY). */
  derivationKey: string;
  generateCode: (policy: Pick<CodePolicy, "length" | "alphabet">) => string;
  clock: Clock;
  /** Told of each new challenge (metrics). */
  onCreated?: (purpose: string) => void;
  /** Told of each refused creation by its code (metrics). */
  onRefused?: (code: string) => void;
  /** Sending codes (channels `sms`, `email`): the outbox and the money and abuse rules. */
  sending?: CodeSending;
  /** Verification by a typed code (verification.ts). */
  verification?: Pick<Verification, "verifyTypedCode">;
  /** Counts one typed code against the limits per challenge, phone and client (throws RATE_LIMITED). */
  limitCodeAttempt?: (subjects: { challengeId: string; phoneHash: string; clientIp: string | undefined }) => Promise<void>;
  /** Seals the phone of a reverse challenge that may fall back to SMS (a key derived from HASH_KEY). */
  phoneSealer?: Pick<Sealer, "seal" | "open">;
};

const notFound = () => new AppError("NOT_FOUND", "No such challenge");

/** The answer to a refused creation (creation-decision.ts). */
function refusal(decision: CreationRefusal): AppError {
  const { retryAfterSeconds } = decision;
  switch (decision.code) {
    case "PHONE_LOCKED":
      return new AppError("PHONE_LOCKED", "Too many wrong codes were sent from this phone; try again later", { retryAfterSeconds });
    case "RATE_LIMITED":
      return new AppError("RATE_LIMITED", "Too many challenges for this phone number from this client; try again later", { reason: "phone", retryAfterSeconds });
  }
}

function toCodePolicy(p: AppPolicy): Pick<CodePolicy, "length" | "alphabet"> {
  return { length: p.codeLength, alphabet: p.codeAlphabet };
}

function checkContext(purpose: Purpose, context: ChallengeContext | undefined): ChallengeContext | undefined {
  if (purpose === "transaction") {
    const missing = (["amount", "currency", "merchant"] as const).filter((k) => !context?.[k]);
    if (missing.length > 0) {
      throw new AppError("VALIDATION_FAILED", "A transaction challenge needs amount, currency and merchant", {
        errors: missing.map((k) => ({ field: `context.${k}`, message: "required for purpose transaction" })),
      });
    }
  } else if (context && (context.amount || context.currency || context.merchant)) {
    throw new AppError("VALIDATION_FAILED", "amount, currency and merchant belong to purpose transaction only", {
      errors: [{ field: "context", message: "only description is allowed for this purpose" }],
    });
  }
  return context && Object.keys(context).length > 0 ? context : undefined;
}

/** The parts of the request fingerprint that name an outbound channel (none for `sms_mo`, as before channels). */
const channelFingerprint = (chosen: ChosenChannel): string[] =>
  chosen.channel === "sms_mo" ? [] : chosen.channel === "email" ? [chosen.channel, chosen.email.toLowerCase()] : [chosen.channel];

const outboundOf = (chosen: ChosenChannel): OutboundChoice | undefined => (chosen.channel === "sms_mo" ? undefined : chosen);

const isFinalView = (view: ChallengeView) => FINAL_STATUSES.includes(view.status);
const wakeWatcher = (watcher: { changed(): void }) => watcher.changed();

export function createChallengeService(deps: ChallengeServiceDeps) {
  const { challenges, apps, hasher, clock } = deps;
  const sendingOrThrow = (): CodeSending => {
    if (!deps.sending) throw new AppError("CHANNEL_NOT_ALLOWED", "This service does not send codes");
    return deps.sending;
  };

  /**
   * Re-reads of woken waiters, shared per challenge: the N waiters of one challenge woken by one
   * change cost one query, not N (`npm run bench`, 100 waiters per challenge: 100 queries per
   * change before). A waiter joins a read only if that read started after the waiter was woken
   * (`readsStarted` then was lower), so it never gets a state older than the change that woke it.
   */
  const rereads = new Map<string, { number: number; read: Promise<ReadChallenge | undefined> }>();
  let readsStarted = 0;
  function rereadAfter(id: string, wokenAt: number): Promise<ReadChallenge | undefined> {
    const shared = rereads.get(id);
    if (shared && shared.number > wokenAt) return shared.read;
    const entry = { number: ++readsStarted, read: challenges.findById(id) };
    rereads.set(id, entry);
    const forget = () => {
      if (rereads.get(id) === entry) rereads.delete(id);
    };
    entry.read.then(forget, forget);
    return entry.read;
  }

  /**
   * One watch (see `watch`): its state in one object and its steps in shared methods, since
   * thousands wait at once (a closure and a context per step and waiter cost about 1 kB each).
   */
  class Watcher {
    private last: ChallengeView | undefined;
    private stopped = false;
    private wokenEarly = false;
    private queue: Promise<void> = Promise.resolve();
    private expiryTimer: NodeJS.Timeout | undefined;
    private readonly unsubscribe: () => void;

    constructor(
      private readonly id: string,
      private readonly onView: (view: ChallengeView, isFinal: boolean) => void,
    ) {
      this.unsubscribe = deps.bus.subscribe(id, () => this.changed());
    }

    /** After the first read: reports it, then waits for changes and for the expiry. */
    start(challenge: ReadChallenge): () => void {
      const view = toChallengeView(challenge, clock.now());
      this.last = view;
      this.onView(view, isFinalView(view));
      if (isFinalView(view)) {
        this.stop();
        return () => undefined;
      }
      // A pending challenge also "changes" when its expiry passes.
      const untilExpiry = Math.max(0, challenge.expiresAt.getTime() - clock.now().getTime()) + 20;
      this.expiryTimer = setTimeout(wakeWatcher, Math.min(untilExpiry, 2_147_483_647), this);
      if (this.wokenEarly) this.changed(); // notified while the first read ran: read again
      return () => this.stop();
    }

    /** A notification (or the expiry): one re-read, queued after the previous one. */
    changed(): void {
      if (!this.last) {
        this.wokenEarly = true;
        return;
      }
      const wokenAt = readsStarted;
      this.queue = this.queue.then(() => this.recheck(wokenAt));
    }

    private async recheck(wokenAt: number): Promise<void> {
      if (this.stopped) return;
      try {
        const current = await rereadAfter(this.id, wokenAt);
        if (!current || this.stopped) return;
        const view = toChallengeView(current, clock.now());
        if (view.status !== this.last!.status || view.consumedAt !== this.last!.consumedAt) {
          this.last = view;
          this.onView(view, isFinalView(view));
          if (isFinalView(view)) this.stop();
        }
      } catch {
        // The database is away: keep waiting; the next notification or timer tries again.
      }
    }

    stop(): void {
      this.stopped = true;
      this.unsubscribe();
      clearTimeout(this.expiryTimer);
    }
  }

  /** Owner's secret key, or the challenge's poll token; anything else looks exactly like "not found". */
  async function loadAuthorized(id: string, access: ChallengeAccess, allowPollToken: boolean): Promise<ReadChallenge> {
    // A publishable key alone can never read a challenge. Saying so is decided from the request's
    // credentials only, before the id is looked at: every id, real, foreign or made up, gets this
    // same answer, so it tells a stranger nothing about which ids exist (unlike a 403 after the look-up).
    if (allowPollToken && access.principal?.kind === "publishable" && access.pollToken === undefined) {
      throw new AppError(
        "FORBIDDEN",
        "A publishable key reads a challenge only with its poll token: send the X-Poll-Token header the creation answered, or use the app's secret key",
        { reason: "POLL_TOKEN_REQUIRED" },
      );
    }
    if (!/^chl_[0-9A-Za-z]{22}$/.test(id)) throw notFound();
    const challenge = await challenges.findById(id);
    if (!challenge) throw notFound();
    const bySecretKey = access.principal?.kind === "secret" && access.principal.appId === challenge.appId;
    const byToken =
      allowPollToken && access.pollToken !== undefined && safeEqual(hasher.token(access.pollToken), challenge.pollTokenHash);
    if (!bySecretKey && !byToken) throw notFound();
    return challenge;
  }

  function describe(
    challenge: StoredChallenge,
    code: string,
    pollToken: string,
    appName: string,
    now: Date,
    delivery?: { status: string; updatedAt: Date } | null,
  ): CreatedChallenge {
    const view = toChallengeView({ ...challenge, delivery: delivery ?? null }, now);
    if (challenge.channel !== "sms_mo") {
      // The code went to the user by SMS or e-mail: the answer never holds it.
      const { createdAt: _c, verifiedAt: _v, consumedAt: _u, ...rest } = view;
      return { ...rest, pollToken };
    }
    const smsBody = buildSmsBody({
      appName,
      purpose: challenge.purpose as Purpose,
      code,
      locale: challenge.locale as Locale,
      ...(challenge.context ? { context: challenge.context } : {}),
    });
    return {
      id: view.id,
      status: view.status,
      purpose: view.purpose,
      phoneMasked: view.phoneMasked,
      code,
      smsTo: challenge.virtualNumber,
      smsBody,
      smsUri: buildSmsUris(challenge.virtualNumber, smsBody),
      expiresAt: view.expiresAt,
      pollToken,
      attemptsRemaining: view.attemptsRemaining,
      channel: view.channel,
    };
  }

  /** Rebuilds the answer of an earlier request with the same Idempotency-Key. */
  async function replay(existing: StoredChallenge, fingerprints: readonly string[], seed: string, appName: string, now: Date, policy: AppPolicy) {
    if (existing.requestFingerprint === null || !fingerprints.includes(existing.requestFingerprint)) {
      throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request body");
    }
    for (let attempt = 0; attempt < MAX_CODE_DRAWS; attempt++) {
      const code = deriveCode(deps.derivationKey, seed, attempt, toCodePolicy(policy));
      if (hasher.codeAll(code).some((h) => safeEqual(h, existing.codeHash))) {
        const delivery = existing.channel === "sms_mo" ? null : (await challenges.findById(existing.id))?.delivery;
        return { challenge: describe(existing, code, derivePollToken(deps.derivationKey, seed), appName, now, delivery), replayed: true };
      }
    }
    // The code policy or HASH_KEY changed since the first request: the code cannot be rebuilt.
    throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key belongs to a challenge that can no longer be replayed");
  }

  async function create(
    principal: Principal,
    input: CreateChallengeInput,
    idempotencyKey?: string,
    client?: string,
  ): Promise<{ challenge: CreatedChallenge; replayed: boolean }> {
    const now = clock.now();
    const app = await apps.findApp(principal.appId);
    if (!app) throw new AppError("UNAUTHENTICATED", "The key's app no longer exists");
    const number = app.numbers[0];
    if (!number) throw new AppError("NO_VIRTUAL_NUMBER", "Add a virtual number to the app first");

    const parsed = parsePhone(input.phone, input.country ? { country: input.country } : {});
    if (!parsed.ok) {
      const code = parsed.reason === "not_mobile" ? "PHONE_NOT_MOBILE" : "INVALID_PHONE";
      throw new AppError(code, parsed.detail, {
        reason: parsed.reason,
        ...(parsed.lineType ? { lineType: parsed.lineType } : {}),
        errors: [{ field: "phone", message: parsed.detail }],
      });
    }
    const phone = parsed.phone;
    if (app.allowedCountries.length > 0 && !(phone.country && app.allowedCountries.includes(phone.country))) {
      throw new AppError("COUNTRY_NOT_ALLOWED", `This app accepts numbers from ${app.allowedCountries.join(", ")} only`);
    }
    const context = checkContext(input.purpose, input.context);
    const locale = resolveLocale(input.locale, app.defaultLocale);
    const chosen = chooseChannel(app, input);

    // An Idempotency-Key belongs to the API key that sent it: the backend's key, guessed and sent
    // with the app's publishable key, must not give back the backend's code and poll token. It is
    // stored, like the request fingerprint, as a keyed digest: a fingerprint is made of a phone
    // number (an unkeyed hash of it falls to trying every number) and a client may build its
    // Idempotency-Key from one. Look-ups try every HASH_KEY (rotation); the first one writes.
    const idemKeys = idempotencyKey ? hasher.keyedAll("idempotency-key", JSON.stringify([principal.keyId, idempotencyKey])) : null;
    const idemKey = idemKeys?.[0] ?? null;
    const seed = idemKey ? `${app.id}\u0000${idemKey}` : "";
    const fingerprints = idemKey
      ? hasher.keyedAll("request-fingerprint", JSON.stringify([phone.e164, input.purpose, context ?? null, input.locale ?? null, ...channelFingerprint(chosen)]))
      : null;
    const fingerprint = fingerprints?.[0] ?? null;
    if (idemKeys && fingerprints) {
      const existing = await challenges.findByIdempotencyKey(app.id, idemKeys);
      if (existing) return replay(existing, fingerprints, seed, app.name, now, app);
    }

    // Sending costs money: the money and abuse rules refuse before anything is written.
    const outbound = outboundOf(chosen);
    if (outbound) await checkCodeMaySend(sendingOrThrow(), app, outbound, phone);

    const phoneHashes = hasher.phoneAll(phone.e164);
    const phoneHash = hasher.phone(phone.e164);
    // Who asks (creation-decision.ts): the per-phone limits count per phone and client. A secret
    // key is one client (the app's backend); a publishable key is one client per address (IPv4) or
    // /64 (IPv6), as its rate limit counts them. Stored as a keyed digest, like the phone.
    const clientHashes = hasher.keyedAll(
      "creation-client",
      JSON.stringify(principal.kind === "secret" ? ["secret", principal.keyId] : ["publishable", principal.keyId, client ?? "unknown"]),
    );
    const rules = { phonePerHour: app.rateLimitPhonePerHour ?? deps.phonePerHour, lockoutSeconds: app.lockoutSeconds };
    const factsQuery = { appId: app.id, phoneHash, phoneHashes, clientHashes, now, windowStart: phoneWindowStart(now) };
    for (let attempt = 0; attempt < MAX_CODE_DRAWS; attempt++) {
      const code = idemKey ? deriveCode(deps.derivationKey, seed, attempt, toCodePolicy(app)) : deps.generateCode(toCodePolicy(app));
      const pollToken = idemKey ? derivePollToken(deps.derivationKey, seed) : randomId("pt", 43);
      const data = {
        id: randomId("chl"),
        appId: app.id,
        virtualNumberId: number.id,
        phoneHash,
        phoneMasked: phone.masked,
        phoneCountry: phone.country ?? null,
        codeHash: hasher.code(code),
        pollTokenHash: hasher.token(pollToken),
        purpose: input.purpose,
        context: (context as Record<string, string> | undefined) ?? null,
        locale,
        maxAttempts: app.maxAttempts,
        idempotencyKey: idemKey,
        requestFingerprint: fingerprint,
        clientHash: clientHashes[0]!,
        createdAt: now,
        expiresAt: new Date(now.getTime() + app.codeTtlSeconds * 1000),
        channel: chosen.channel,
        phoneSealed: chosen.channel === "sms_mo" && mayFallBackToSms(app) && deps.phoneSealer ? deps.phoneSealer.seal(phone.e164) : null,
      };
      // The outbound message of this code commits with the challenge, in the same round trip (atomic).
      const message = outbound
        ? codeMessageScript(sendingOrThrow(), { app, challengeId: data.id, chosen: outbound, phone, code, purpose: input.purpose, locale, context: context ?? null, expiresInSeconds: app.codeTtlSeconds })
        : undefined;
      const delivery = message?.enqueued.delivery;
      // Under the phone's lock: the limits are decided on what the transaction reads, then the
      // challenge is inserted (replacing the client's oldest pending ones) — or nothing is, when
      // refused. A challenge that commits alone (no message to send with it) is first tried in one
      // statement, which inserts it when the decision is plain (isPlainCreation).
      const decide = (facts: CreationFacts): CreationChoice<CreationRefusal> => {
        const decision = decideCreation(facts, rules, now);
        return decision.kind === "refused"
          ? { refuse: decision }
          : { insert: { ...data, attempts: decision.attempts }, replaces: decision.replaces, extras: message ? [message.extra] : [] };
      };
      const result = await challenges.create(factsQuery, decide, message ? undefined : { row: data, phonePerHour: rules.phonePerHour });
      if (result.kind === "refused") throw refusal(result.refusal);
      if (result.kind === "created") {
        deps.onCreated?.(input.purpose);
        return { challenge: describe(result.challenge, code, pollToken, app.name, now, delivery), replayed: false };
      }
      // A unique violation: the same Idempotency-Key committed meanwhile (replay it), or the code
      // is taken among the phone's pending challenges (draw another).
      if (idemKeys && fingerprints) {
        const existing = await challenges.findByIdempotencyKey(app.id, idemKeys);
        if (existing) return replay(existing, fingerprints, seed, app.name, now, app);
      }
    }
    throw new AppError("SERVICE_UNAVAILABLE", "Could not draw a free code; retry");
  }

  return {
    /** `client`: the caller's address as per-client limits count it (limits/client-key.ts); matters for publishable keys. */
    async create(principal: Principal, input: CreateChallengeInput, idempotencyKey?: string, client?: string) {
      try {
        return await create(principal, input, idempotencyKey, client);
      } catch (error) {
        if (error instanceof AppError) deps.onRefused?.(error.code);
        throw error;
      }
    },

    /**
     * Calls `onView` with the current state, then with each change (status, or consumption) made on
     * any instance, until a final status; returns a function that stops watching. Holds no database
     * connection while waiting: a notification triggers one re-read. A pending challenge also
     * "changes" when its expiry passes, so a timer wakes the watcher then.
     */
    async watch(id: string, access: ChallengeAccess, onView: (view: ChallengeView, isFinal: boolean) => void): Promise<() => void> {
      // Subscribe before the first read: a change that the read does not see commits after it, and
      // its notification (sent at commit) then reaches this subscription. Notifications arriving
      // during the read are remembered and re-read afterwards. (Subscribing after the read needed
      // a second read of every new waiter to close that gap.)
      const watcher = new Watcher(id, onView);
      let challenge: ReadChallenge;
      try {
        await deps.bus.ready(); // the instance listens while someone waits: from now on, changes reach the watcher
        challenge = await loadAuthorized(id, access, true);
      } catch (error) {
        watcher.stop();
        throw error;
      }
      return watcher.start(challenge);
    },

    async get(id: string, access: ChallengeAccess): Promise<ChallengeView> {
      const challenge = await loadAuthorized(id, access, true);
      return toChallengeView(challenge, clock.now());
    },

    async cancel(id: string, access: ChallengeAccess): Promise<ChallengeView> {
      const challenge = await loadAuthorized(id, access, true);
      const now = clock.now();
      if (!(await challenges.finishIfPending(id, "cancelled", now))) {
        throw new AppError("CHALLENGE_NOT_PENDING", `The challenge is ${toChallengeView(challenge, now).status}`);
      }
      return toChallengeView({ ...challenge, status: "cancelled" }, now);
    },

    /**
     * Switches a pending reverse challenge to `sms` or `email`: a new code (the old one no longer
     * verifies: its digest is replaced, and texted codes verify only `sms_mo` challenges), a new
     * lifetime, and its message enqueued in the same transaction.
     */
    async fallback(id: string, access: ChallengeAccess, input: { channel: "sms" | "email"; email?: string | undefined }): Promise<ChallengeView> {
      const found = await loadAuthorized(id, access, true);
      const now = clock.now();
      const c = await challenges.findForCode(id);
      if (!c) throw notFound();
      const status = effectiveStatus(c, now);
      if (status !== "pending") throw new AppError("CHALLENGE_NOT_PENDING", `The challenge is ${status}`);
      if (c.channel !== "sms_mo") throw new AppError("CHANNEL_NOT_ALLOWED", `The code of this challenge was already sent by ${c.channel}`, { reason: "not_reverse" });
      const app = await apps.findApp(c.appId);
      if (!app) throw notFound();
      const chosen = chooseChannel(app, input) as OutboundChoice;
      let phone: ReturnType<typeof parsePhone> | undefined;
      if (chosen.channel === "sms") {
        if (!c.phoneSealed || !deps.phoneSealer) {
          throw new AppError("CHANNEL_NOT_ALLOWED", "This challenge's phone was not kept for sending (its app did not allow sms when it was created)", { reason: "sms" });
        }
        phone = parsePhone(deps.phoneSealer.open(c.phoneSealed), {});
      }
      const parsed = phone?.ok ? phone.phone : undefined;
      await checkCodeMaySend(sendingOrThrow(), app, chosen, parsed);
      const expiresAt = new Date(now.getTime() + app.codeTtlSeconds * 1000);
      for (let attempt = 0; attempt < MAX_CODE_DRAWS; attempt++) {
        const code = deps.generateCode(toCodePolicy(app));
        const switched = await challenges.switchChannel(
          { id, appId: c.appId, phoneHash: c.phoneHash, channel: chosen.channel, codeHash: hasher.code(code), expiresAt, now },
          (tx) =>
            enqueueCodeMessage(sendingOrThrow(), tx, {
              app,
              challengeId: id,
              chosen,
              phone: parsed,
              code,
              purpose: c.purpose as Purpose,
              locale: c.locale as Locale,
              context: c.context,
              expiresInSeconds: app.codeTtlSeconds,
            }),
        );
        if (switched.kind === "not_pending") {
          const current = (await challenges.findById(id)) ?? found;
          throw new AppError("CHALLENGE_NOT_PENDING", `The challenge is ${toChallengeView(current, clock.now()).status}`);
        }
        if (switched.kind === "switched") {
          return toChallengeView({ ...found, channel: chosen.channel, expiresAt, delivery: switched.result.delivery }, now);
        }
      }
      throw new AppError("SERVICE_UNAVAILABLE", "Could not draw a free code; retry");
    },

    /**
     * The code the user typed, for an `sms`/`email` challenge: verified, or a wrong code counted on
     * the phone like a wrong code by SMS (verification.ts). Limited per challenge, phone and client.
     */
    async check(id: string, access: ChallengeAccess, typed: string, clientIp: string | undefined): Promise<ChallengeView> {
      const found = await loadAuthorized(id, access, true);
      const c = await challenges.findForCode(id);
      if (!c || !deps.verification) throw notFound();
      if (c.channel === "sms_mo") {
        throw new AppError("CHANNEL_NOT_ALLOWED", "The code of this challenge is texted to the app's number, not typed", { reason: "sms_mo" });
      }
      const status = effectiveStatus(c, clock.now());
      if (status !== "pending") throw new AppError("CHALLENGE_NOT_PENDING", `The challenge is ${status}`);
      await deps.limitCodeAttempt?.({ challengeId: id, phoneHash: c.phoneHash, clientIp });
      const app = await apps.findApp(c.appId);
      if (!app) throw notFound();
      const result = await deps.verification.verifyTypedCode(c, typed, app, clock.now());
      if (result.kind === "wrong_code") {
        throw new AppError("WRONG_CODE", result.attemptsRemaining > 0 ? "The code is wrong" : "The code is wrong; no attempts are left and the phone is locked out", {
          attemptsRemaining: result.attemptsRemaining,
        });
      }
      const current = (await challenges.findById(id)) ?? found;
      const view = toChallengeView(current, clock.now());
      if (result.kind === "not_pending") throw new AppError("CHALLENGE_NOT_PENDING", `The challenge is ${view.status}`);
      return view;
    },

    /** The maintenance sweep: pending challenges past their expiry become expired (so waiters and callbacks hear of it). */
    expireOverdue: (now: Date, limit?: number): Promise<number> => challenges.expireOverdue(now, limit),
    /** The retention purge of challenges and wrong-code counts (the maintenance jobs and the CLI's `purge`). */
    countPurgeable: (cutoffs: ChallengePurgeCutoffs) => challenges.countPurgeable(cutoffs),
    purgeBatch: (table: ChallengePurgeTable, cutoffs: ChallengePurgeCutoffs, limit: number) => challenges.purgeBatch(table, cutoffs, limit),

    async consume(id: string, principal: Principal | undefined): Promise<ChallengeView> {
      const challenge = await loadAuthorized(id, principal ? { principal } : {}, false);
      const now = clock.now();
      if (await challenges.consumeIfVerified(id, now)) {
        return toChallengeView({ ...challenge, consumedAt: now }, now);
      }
      const current = (await challenges.findById(id)) ?? challenge;
      if (current.status === "verified") throw new AppError("CHALLENGE_ALREADY_CONSUMED", "This verification was already used");
      throw new AppError("CHALLENGE_NOT_VERIFIED", `The challenge is ${toChallengeView(current, now).status}`);
    },
  };
}

export type ChallengeService = ReturnType<typeof createChallengeService>;
