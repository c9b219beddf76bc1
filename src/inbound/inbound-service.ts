// Inbound SMS: verify the provider's signature, parse, then match sender + code exactly once.
import type { AppRepository, NumberOwner } from "../apps/app-repository.js";
import { countryOfNumber, recipientKeys } from "../apps/virtual-number.js";
import { afterWrongCode } from "../challenges/attempts.js";
import { effectiveStatus } from "../challenges/challenge-view.js";
import { normalizeSender, maskPhone, type SenderResult } from "../challenges/phone.js";
import type { InboundRequest, InboundOutcome, MessageResult, ProviderAdapter, ProviderAnswer, ProviderMessage } from "../providers/provider.js";
import type { Clock } from "../shared/clock.js";
import { randomId, type Hasher, type Sealer } from "../shared/crypto.js";
import { AppError } from "../shared/errors.js";
import { extractCodeCandidates } from "./code-extraction.js";
import { decideUnmatched, isRefusedLineType } from "./inbound-decision.js";
import type { InboundRepository, InboundRow } from "./inbound-repository.js";
import type { Misconfiguration } from "./misconfiguration.js";

export type InboundServiceDeps = {
  inbound: InboundRepository;
  apps: AppRepository;
  hasher: Hasher;
  sealer: Sealer;
  clock: Clock;
  providers: ReadonlyMap<string, ProviderAdapter>;
  /** Told of every outcome (metrics, logs). Never receives numbers or texts. */
  onOutcome?: (provider: string, result: MessageResult) => void;
  /** Told of every refused request (metrics, logs). */
  onRejected?: (provider: string, code: string, reason: string) => void;
  /** Told of every stored delivery that no app can own for a reason of set-up (logs, metrics). */
  onMisconfigured?: (event: Misconfiguration) => void;
};

/** Inbound texts longer than this are cut before matching (providers deliver up to ~1,600 characters). */
const MAX_TEXT_CHARS = 2_000;
const stripControls = (value: string) => value.replace(/[\u0000-\u001f\u007f]/gu, "");

/** Most parts a multi-part SMS may have (10 × 153 characters is beyond any real message to us). */
const MAX_PARTS = 10;

/**
 * Owners of our virtual numbers as last read, so the common webhook needs no look-up before its
 * one statement. Never trusted on its own: the statement re-checks the owner, provider and code
 * policy it was given and does nothing when they changed (the entry is then dropped and the
 * step-by-step path reads the number afresh). Bounded: a handful of numbers in practice; entries
 * older than a minute are read again anyway.
 */
const OWNER_CACHE_MAX_ENTRIES = 10_000;
const OWNER_CACHE_TTL_MS = 60_000;

/** A GET without query string and body: it can be no provider's delivery. */
export function isUrlCheck(request: InboundRequest): boolean {
  const query = request.publicUrl.includes("?") ? request.publicUrl.slice(request.publicUrl.indexOf("?") + 1) : "";
  return request.method === "GET" && query === "" && request.rawBody.length === 0;
}

const URL_CHECK_ANSWER: ProviderAnswer = { status: 200, contentType: "text/plain", body: "" };

/**
 * The sender in E.164. One written nationally (`0612…`) is read with the country of the number it
 * texted, which is worked out only then (it costs a parse of that number on the common path).
 */
function readSender(from: string, countryOfRecipient: () => string | undefined): SenderResult {
  const international = normalizeSender(from);
  return international.ok ? international : normalizeSender(from, { country: countryOfRecipient() });
}

export function createInboundService(deps: InboundServiceDeps) {
  const { inbound, apps, hasher, clock } = deps;
  const owners = new Map<string, { owner: NumberOwner; readAtMs: number }>();
  const rememberOwner = (e164: string, owner: NumberOwner | undefined) => {
    if (!owner) return;
    if (owners.size >= OWNER_CACHE_MAX_ENTRIES) owners.clear();
    owners.set(e164, { owner, readAtMs: performance.now() });
  };
  const cachedOwner = (e164: string): NumberOwner | undefined => {
    const entry = owners.get(e164);
    return entry && performance.now() - entry.readAtMs < OWNER_CACHE_TTL_MS ? entry.owner : undefined;
  };

  /** Where sender and recipient may stand: as written, and swapped when the provider's placement is uncertain. */
  const placementsOf = (message: ProviderMessage): { from: string; to: string }[] =>
    message.directionUncertain ? [{ from: message.from, to: message.to }, { from: message.to, to: message.from }] : [{ from: message.from, to: message.to }];

  /** The cached number of this provider the message was sent to, with its sender as placed. */
  function cachedRecipient(provider: string, message: ProviderMessage): { owner: NumberOwner; from: string } | undefined {
    for (const placement of placementsOf(message)) {
      for (const key of recipientKeys(placement.to)) {
        const owner = cachedOwner(key);
        if (owner?.provider === provider) return { owner, from: placement.from };
      }
    }
    return undefined;
  }

  /**
   * The number the message was sent to, read afresh: under every spelling the provider's recipient
   * allows (recipientKeys), then by the channel ids it names (Bird). A number of this provider wins;
   * otherwise the first number found (rented from another provider), or none.
   */
  async function findRecipient(provider: string, message: ProviderMessage) {
    let other: { number: NumberOwner; from: string; keys: string[] } | undefined;
    for (const placement of placementsOf(message)) {
      const keys = recipientKeys(placement.to);
      let number = await apps.findNumber(keys);
      if (!number && message.channelIds?.length) number = await apps.findNumberByChannel(provider, message.channelIds);
      if (number) rememberOwner(number.e164, number);
      if (number?.provider === provider) return { number, from: placement.from, keys };
      if (number) other ??= { number, from: placement.from, keys };
    }
    return other ?? { number: undefined, from: message.from, keys: recipientKeys(message.to) };
  }

  /**
   * The common case — the message verifies a challenge — in one SQL statement (verify-statement.ts),
   * when the number's owner is cached. Returns undefined when that did nothing, and the caller then
   * runs the step-by-step transaction below, which decides every other outcome exactly as before.
   */
  async function tryVerifyInOneStatement(
    provider: string,
    message: ProviderMessage,
    sender: SenderResult,
    owner: NumberOwner,
    receivedAt: Date,
    now: Date,
  ): Promise<InboundOutcome | undefined> {
    if (!sender.ok || isRefusedLineType(message.lineType)) return undefined;
    const policy = owner.policy;
    const candidates = extractCodeCandidates(message.text.slice(0, MAX_TEXT_CHARS), { length: policy.codeLength, alphabet: policy.codeAlphabet });
    if (candidates.length === 0) return undefined;
    const result = await inbound.verifyInOneStatement({
      id: randomId("msg"),
      provider,
      providerMessageId: message.providerMessageId,
      appId: owner.appId,
      senderHash: hasher.phone(sender.e164),
      senderMasked: maskPhone(sender.e164),
      senderCountry: sender.country ?? null,
      recipient: owner.e164,
      textLength: [...message.text].length,
      parts: message.parts ?? 1,
      lineType: message.lineType?.slice(0, 40) ?? null,
      carrier: message.carrier?.slice(0, 100) ?? null,
      receivedAt: message.receivedAt ?? receivedAt,
      now,
      codeLength: policy.codeLength,
      codeAlphabet: policy.codeAlphabet,
      phoneHashes: hasher.phoneAll(sender.e164),
      codeHashes: candidates.flatMap((c) => hasher.codeAll(c)),
    });
    if (result.kind === "stale_owner") owners.delete(owner.e164);
    if (result.kind === "verified") return "verified";
    if (result.kind === "duplicate") return "duplicate";
    return undefined;
  }

  async function record(provider: string, message: ProviderMessage, receivedAt: Date): Promise<InboundOutcome> {
    const now = clock.now();
    const cached = cachedRecipient(provider, message);
    if (cached) {
      const sender = readSender(cached.from, () => countryOfNumber(cached.owner));
      const fast = await tryVerifyInOneStatement(provider, message, sender, cached.owner, receivedAt, now);
      if (fast) return fast;
    }

    const found = await findRecipient(provider, message);
    const number = found.number;
    // A number answers only through the provider it is rented from.
    const owner = number && number.provider === provider ? number : undefined;
    const sender = readSender(found.from, () =>
      number ? countryOfNumber(number) : found.keys.map((key) => countryOfNumber({ e164: key, country: null })).find(Boolean),
    );
    const text = message.text.slice(0, MAX_TEXT_CHARS);

    const row: InboundRow = {
      id: randomId("msg"),
      provider,
      providerMessageId: message.providerMessageId,
      appId: owner?.appId ?? null,
      senderHash: sender.ok ? hasher.phone(sender.e164) : null,
      senderMasked: sender.ok ? maskPhone(sender.e164) : null,
      senderCountry: sender.ok ? (sender.country ?? null) : null,
      recipient: number?.e164 ?? found.keys[0] ?? (message.channelIds?.[0] ? `channel:${message.channelIds[0]}` : "(invalid)"),
      textLength: [...message.text].length,
      parts: message.parts ?? 1,
      lineType: message.lineType?.slice(0, 40) ?? null,
      carrier: message.carrier?.slice(0, 100) ?? null,
      receivedAt: message.receivedAt ?? receivedAt,
      createdAt: now,
    };

    // Outcomes known before matching are stored as they are (a duplicate stores nothing).
    const storeOnly = async (outcome: InboundOutcome): Promise<InboundOutcome> =>
      (await inbound.transaction((tx) => tx.claim(row, outcome))) ? outcome : "duplicate";
    if (!owner) {
      const outcome = await storeOnly("unknown_number");
      if (outcome === "unknown_number") {
        const reason = number ? "other_provider" : found.keys.length === 0 && message.channelIds?.length ? "unmapped_channel" : "unknown_number";
        deps.onMisconfigured?.({ provider, reason, number: row.recipient, senderMasked: row.senderMasked });
      }
      return outcome;
    }
    if (!sender.ok || isRefusedLineType(message.lineType)) return storeOnly("invalid_sender");

    const policy = owner.policy;
    const phoneHashes = hasher.phoneAll(sender.e164);
    const candidates = extractCodeCandidates(text, { length: policy.codeLength, alphabet: policy.codeAlphabet });
    const codeHashes = candidates.flatMap((c) => hasher.codeAll(c));
    const q = { appId: owner.appId, phoneHashes, codeHashes, now };

    return inbound.transaction(async (tx) => {
      // Claim first: a duplicate delivery stops here before it can count or change anything.
      if (!(await tx.claim(row, "no_pending_challenge"))) return "duplicate";

      const verifiedId = codeHashes.length > 0 ? await tx.verifyMatching(q) : undefined;
      if (verifiedId) {
        await tx.clearFailures(owner.appId, phoneHashes);
        await tx.setOutcome(row.id, "verified", verifiedId);
        return "verified";
      }

      const match = codeHashes.length > 0 ? await tx.findCodeMatch(q) : undefined;
      const outcome = decideUnmatched({
        codeMatchStatus: match ? effectiveStatus(match, now) : undefined,
        hasPending: await tx.hasPending(q),
      });
      if (outcome === "expired" && match) await tx.expireIfPending(match.id, now);
      if (outcome === "wrong_code") {
        const phoneHash = hasher.phone(sender.e164);
        const state = await tx.lockFailureState(owner.appId, phoneHash, now);
        const next = afterWrongCode(state, now, policy);
        await tx.saveFailureState(owner.appId, phoneHash, next);
        await tx.applyFailures({ appId: owner.appId, phoneHashes, failures: next.failures, fail: next.lockedNow, now });
      }
      await tx.setOutcome(row.id, outcome, match?.id ?? null);
      return outcome;
    });
  }

  /**
   * A part of a multi-part SMS: kept (sealed) until all parts are there, then the joined text is
   * matched as one message whose id derives from the group, and the parts are deleted. A crash
   * between the two leaves the parts; the provider's retry of any part completes the job.
   */
  async function recordPart(provider: string, message: ProviderMessage, receivedAt: Date): Promise<InboundOutcome | "part_stored"> {
    const concat = message.concat!;
    if (!Number.isInteger(concat.total) || concat.total < 1 || concat.total > MAX_PARTS || !Number.isInteger(concat.part) || concat.part < 1 || concat.part > concat.total) {
      throw new AppError("WEBHOOK_PAYLOAD_INVALID", `A message part must be numbered 1 to its total (at most ${MAX_PARTS})`);
    }
    const sender = normalizeSender(message.from);
    const groupKey = hasher.partGroup(provider, sender.ok ? sender.e164 : message.from, message.to, concat.reference);
    const parts = await inbound.storePart({
      id: randomId("prt"),
      provider,
      groupKey,
      part: concat.part,
      total: concat.total,
      providerMessageId: message.providerMessageId,
      sealedText: deps.sealer.seal(message.text.slice(0, MAX_TEXT_CHARS)),
    });
    if (!parts) return "part_stored";
    const { concat: _part, ...rest } = message;
    // The joined message is identified by its first part's id: unique per message and stable across
    // retries (the group key is not: carriers reuse 8-bit concatenation references).
    const outcome = await record(
      provider,
      {
        ...rest,
        providerMessageId: `concat:${parts[0]!.providerMessageId}`.slice(0, 250),
        text: parts.map((p) => deps.sealer.open(p.sealedText)).join(""),
        parts: concat.total,
      },
      receivedAt,
    );
    await inbound.deleteParts(provider, groupKey);
    return outcome;
  }

  return {
    async handle(providerName: string, request: InboundRequest): Promise<{ answer: ProviderAnswer; results: MessageResult[] }> {
      const adapter = deps.providers.get(providerName);
      // A path segment after the provider name exists only for providers that authenticate by it.
      if (!adapter || (request.pathToken !== undefined && !adapter.usesPathToken)) {
        throw new AppError("UNKNOWN_PROVIDER", `No SMS provider webhook at this path`);
      }
      const verify = async () => {
        const verdict = await adapter.verify(request);
        if (!verdict.ok) {
          deps.onRejected?.(adapter.name, verdict.code, verdict.reason);
          throw new AppError(verdict.code, verdict.reason);
        }
      };
      // A bare GET is what back offices and health probes send to check a URL when it is saved: a
      // 200 that reads and writes nothing, whatever the provider's method. Path-token providers
      // check the token first, so a mistyped URL shows as refused right away.
      if (isUrlCheck(request)) {
        if (adapter.usesPathToken) await verify();
        return { answer: URL_CHECK_ANSWER, results: [] };
      }
      if (!adapter.methods.includes(request.method)) throw new AppError("METHOD_NOT_ALLOWED", `${adapter.name} webhooks use ${adapter.methods.join(" or ")}`);

      // Verify first, parse second: nothing of an unverified request is read, let alone stored.
      await verify();
      let messages: ProviderMessage[];
      try {
        messages = adapter.parse(request);
      } catch (error) {
        if (error instanceof AppError) deps.onRejected?.(adapter.name, error.code, error.message);
        throw error;
      }
      // Whatever the adapter: a message id must be storable (PostgreSQL refuses NUL; a 503 would be
      // retried for ever), and free-text details lose their control characters.
      for (const message of messages) {
        if (!/^[^\u0000-\u001f\u007f]{1,200}$/u.test(message.providerMessageId)) {
          deps.onRejected?.(adapter.name, "WEBHOOK_PAYLOAD_INVALID", "unusable message id");
          throw new AppError("WEBHOOK_PAYLOAD_INVALID", "The message id must have 1 to 200 characters and no control characters");
        }
        if (message.lineType !== undefined) message.lineType = stripControls(message.lineType);
        if (message.carrier !== undefined) message.carrier = stripControls(message.carrier);
      }
      const results: MessageResult[] = [];
      for (const message of messages) {
        const outcome =
          message.concat && message.concat.total > 1
            ? await recordPart(adapter.name, message, request.receivedAt)
            : await record(adapter.name, message, request.receivedAt);
        const result = { providerMessageId: message.providerMessageId, outcome };
        deps.onOutcome?.(adapter.name, result);
        results.push(result);
      }
      return { answer: adapter.acknowledge(results), results };
    },
  };
}

export type InboundService = ReturnType<typeof createInboundService>;
