// The inbound gateway: verifies the provider's request, parses it, resolves the number it was sent
// to, and records every message (inbound_messages). What a message does to challenges is decided by
// the challenges feature (src/challenges/verification.ts), which this calls for a message from a
// valid sender to a known number.
import type { AppDirectory, NumberOwner } from "../apps/app-directory.js";
import { countryOfNumber, recipientKeys } from "../apps/virtual-number.js";
import { normalizeSender, maskPhone, type SenderResult } from "../challenges/phone.js";
import type { SmsToVerify, Verification } from "../challenges/verification.js";
import type { InboundRequest, InboundOutcome, MessageResult, ProviderAdapter, ProviderAnswer, ProviderMessage } from "../providers/provider.js";
import type { Clock } from "../shared/clock.js";
import { randomId, type Hasher, type Sealer } from "../shared/crypto.js";
import { AppError } from "../shared/errors.js";
import { isRefusedLineType } from "./inbound-decision.js";
import type { InboundRepository, InboundRow } from "./inbound-repository.js";
import type { Misconfiguration } from "./misconfiguration.js";

export type InboundServiceDeps = {
  inbound: InboundRepository;
  numbers: Pick<AppDirectory, "findNumber" | "findNumberByChannel">;
  verification: Pick<Verification, "verifySmsInOneStatement" | "verifySmsStepByStep">;
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

/**
 * Recipients as providers spell them, with their keys (recipientKeys): a handful of our numbers, so
 * each spelling is parsed once instead of at every message (a libphonenumber parse of the
 * recipient was about a third of that library's time per webhook). Only verified requests reach
 * it; bounded all the same.
 */
const RECIPIENT_KEYS_MAX_ENTRIES = 1_000;

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
  const { inbound, numbers, verification, hasher, clock } = deps;
  const owners = new Map<string, { owner: NumberOwner; readAtMs: number }>();
  const rememberOwner = (e164: string, owner: NumberOwner | undefined) => {
    if (!owner) return;
    if (owners.size >= OWNER_CACHE_MAX_ENTRIES) owners.clear();
    owners.set(e164, { owner, readAtMs: performance.now() });
  };
  const recipientKeysBySpelling = new Map<string, readonly string[]>();
  const keysOf = (to: string): readonly string[] => {
    let keys = recipientKeysBySpelling.get(to);
    if (!keys) {
      if (recipientKeysBySpelling.size >= RECIPIENT_KEYS_MAX_ENTRIES) recipientKeysBySpelling.clear();
      keys = Object.freeze(recipientKeys(to));
      recipientKeysBySpelling.set(to, keys);
    }
    return keys;
  };
  const cachedOwner = (e164: string): NumberOwner | undefined => {
    const entry = owners.get(e164);
    return entry && performance.now() - entry.readAtMs < OWNER_CACHE_TTL_MS ? entry.owner : undefined;
  };

  /** The message's row in inbound_messages (its outcome is set when it is stored). */
  function rowOf(provider: string, message: ProviderMessage, sender: SenderResult, recipient: string, appId: string | null, receivedAt: Date, now: Date): InboundRow {
    return {
      id: randomId("msg"),
      provider,
      providerMessageId: message.providerMessageId,
      appId,
      senderHash: sender.ok ? hasher.phone(sender.e164) : null,
      senderMasked: sender.ok ? maskPhone(sender.e164) : null,
      senderCountry: sender.ok ? (sender.country ?? null) : null,
      recipient,
      textLength: [...message.text].length,
      parts: message.parts ?? 1,
      lineType: message.lineType?.slice(0, 40) ?? null,
      carrier: message.carrier?.slice(0, 100) ?? null,
      receivedAt: message.receivedAt ?? receivedAt,
      createdAt: now,
    };
  }

  /** Where sender and recipient may stand: as written, and swapped when the provider's placement is uncertain. */
  const placementsOf = (message: ProviderMessage): { from: string; to: string }[] =>
    message.directionUncertain ? [{ from: message.from, to: message.to }, { from: message.to, to: message.from }] : [{ from: message.from, to: message.to }];

  /** The cached number of this provider the message was sent to, with its sender as placed. */
  function cachedRecipient(provider: string, message: ProviderMessage): { owner: NumberOwner; from: string } | undefined {
    for (const placement of placementsOf(message)) {
      for (const key of keysOf(placement.to)) {
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
      let number = await numbers.findNumber(keys);
      if (!number && message.channelIds?.length) number = await numbers.findNumberByChannel(provider, message.channelIds);
      if (number) rememberOwner(number.e164, number);
      if (number?.provider === provider) return { number, from: placement.from, keys };
      if (number) other ??= { number, from: placement.from, keys };
    }
    return other ?? { number: undefined, from: message.from, keys: recipientKeys(message.to) };
  }

  /** A sender that can prove possession of a personal phone (see isRefusedLineType). */
  const validSenderOf = (sender: SenderResult, message: ProviderMessage) =>
    sender.ok && !isRefusedLineType(message.lineType) ? sender : undefined;

  async function record(provider: string, message: ProviderMessage, receivedAt: Date): Promise<InboundOutcome> {
    const now = clock.now();
    const text = message.text.slice(0, MAX_TEXT_CHARS);

    // The common case, when the number's owner is cached: one statement verifies and records the
    // message, or does nothing, and the step-by-step path below decides.
    const cached = cachedRecipient(provider, message);
    if (cached) {
      const sender = readSender(cached.from, () => countryOfNumber(cached.owner));
      const validSender = validSenderOf(sender, message);
      if (validSender) {
        const sms: SmsToVerify = { owner: cached.owner, senderE164: validSender.e164, text, now };
        const row = rowOf(provider, message, sender, cached.owner.e164, cached.owner.appId, receivedAt, now);
        const fast = await verification.verifySmsInOneStatement(sms, row);
        if (fast === "verified" || fast === "duplicate") return fast;
        if (fast === "stale_owner") owners.delete(cached.owner.e164);
      }
    }

    const found = await findRecipient(provider, message);
    const number = found.number;
    // A number answers only through the provider it is rented from.
    const owner = number && number.provider === provider ? number : undefined;
    const sender = readSender(found.from, () =>
      number ? countryOfNumber(number) : found.keys.map((key) => countryOfNumber({ e164: key, country: null })).find(Boolean),
    );
    const recipient = number?.e164 ?? found.keys[0] ?? (message.channelIds?.[0] ? `channel:${message.channelIds[0]}` : "(invalid)");
    const row = rowOf(provider, message, sender, recipient, owner?.appId ?? null, receivedAt, now);

    // Outcomes known before matching are stored as they are (a duplicate stores nothing).
    const storeOnly = async (outcome: InboundOutcome): Promise<InboundOutcome> => ((await inbound.store(row, outcome)) ? outcome : "duplicate");
    if (!owner) {
      const outcome = await storeOnly("unknown_number");
      if (outcome === "unknown_number") {
        const reason = number ? "other_provider" : found.keys.length === 0 && message.channelIds?.length ? "unmapped_channel" : "unknown_number";
        deps.onMisconfigured?.({ provider, reason, number: row.recipient, senderMasked: row.senderMasked });
      }
      return outcome;
    }
    const validSender = validSenderOf(sender, message);
    if (!validSender) return storeOnly("invalid_sender");
    return verification.verifySmsStepByStep({ owner, senderE164: validSender.e164, text, now }, inbound.messageLog(row));
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
