// smsmode: inbound (MO) SMS, authenticated by a secret path token.
//
// smsmode documents no request signature, so we accept it only on
// `/v1/inbound/smsmode/<token>`. Two formats reach the same URL:
//
// 1. HTTP API reply callback ("URL notification réception SMS" in the back office, menu
//    Paramètres » Développeurs): a GET whose query holds
//      `numero`          "the sMsmode number to which the reply has been sent (not to be confused
//                        with emetteur)": OUR number, a short code such as 36034 or a long number;
//      `emetteur`        "MSISDN of the person who replied": the USER, bare international digits
//                        (33601020304), possibly national (0601020304);
//      `message`, `date_reception` (`ddMMyyyy-HHmmss`), `smsID` (the SMS replied to),
//      `refClient`, and `responseID` (the id of this reply; absent in version 2.7).
//    Documented example: `?numero=36034&message=bonjour&emetteur=33601020304&date_reception=
//    01012013-122233&smsID=abcd1234&refClient=monclient123&responseID=azertyu123`.
//    Sources: smsmode "Documentation technique API HTTP" 2.7 (FR, 2017, §12), 3.4 (EN, 2019,
//    §13 "Sending SMS message with allowed reply and reply notification") and 3.5 (FR, 2020);
//    public copies in the webeweb/smsmode-library repository (Resources/doc/, doc/).
//    Without `responseID` (2.7) the message id is derived from the other fields with a keyed hash
//    (stable across a repeated notification, and not a reversible digest of phone and code): a
//    400 would lose the code, smsmode does not retry. The date carries no zone; smsmode is a
//    French platform and we read it as Europe/Paris time (it is only stored, never matched on).
//    The API encodes texts in ISO-8859-15: a query that is not valid UTF-8 is decoded as
//    ISO-8859-15 rather than mangled. Delivery reports of the same API (`statut`, no `emetteur`)
//    are acknowledged and ignored.
// 2. REST API webhook (https://dev.smsmode.com/, "webhooks"): a POST with a JSON message object,
//    `{ messageId, direction: "MO", from, recipient: { to }, body: { text, stop? }, sentDate,
//    originMessageId?, … }`. For an SMS MO `from` should be the user and `recipient.to` (or a flat
//    `to`) our number or short code, but public integrations disagree on the placement, so the
//    message is marked `directionUncertain`: the core takes as recipient whichever of the two is
//    one of our numbers. Anything that is not an SMS MO (status callbacks of messages we sent,
//    `direction: "MT"`; RCS) is acknowledged and ignored.
//    smsmode retries a failed REST webhook 6 times (+30 s, +2 min, +10 min, +1 h, +5 h, +24 h)
//    with the same `messageId`: the core's dedup on (provider, messageId) absorbs every retry.
import { createHmac } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../shared/errors.js";
import { parseJsonBody } from "../generic/adapter.js";
import type { InboundRequest, ProviderAdapter, SyncProviderAdapter, ProviderMessage } from "../provider.js";
import { createPathTokenVerifier } from "../path-token.js";
import { invalidPayload, optionalTimestamp, PLAIN_OK } from "../payload.js";

// ---------------------------------------------------------------------------------------------
// HTTP API reply callback (GET)
// ---------------------------------------------------------------------------------------------

const REPLY_FIELDS = ["numero", "message", "emetteur", "responseID", "date_reception", "smsID", "refClient", "statut"] as const;

const replySchema = z.object({
  numero: z.string().min(1).max(64),
  message: z.string().max(10_000),
  emetteur: z.string().min(1).max(64),
  responseID: z.string().min(1).max(200).optional(),
  date_reception: z.string().max(32).optional(),
  smsID: z.string().max(200).optional(),
  refClient: z.string().max(200).optional(),
});

/** Percent-decodes one query component (`+` is a space) into bytes. */
function percentDecode(component: string): Buffer {
  const chunks: Buffer[] = [];
  for (const [chunk, hex] of component.replace(/\+/g, " ").matchAll(/%([0-9A-Fa-f]{2})|[^%]+|%/g)) {
    chunks.push(hex ? Buffer.from([parseInt(hex, 16)]) : Buffer.from(chunk, "utf8"));
  }
  return Buffer.concat(chunks);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin9 = new TextDecoder("iso-8859-15");

/** UTF-8 when the bytes are UTF-8, ISO-8859-15 (what the HTTP API speaks) otherwise. */
function decodeText(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return latin9.decode(bytes);
  }
}

/** The query of the public URL as single-valued fields; a repeated field is a malformed request. */
function readQuery(publicUrl: string): Map<string, string> {
  const queryStart = publicUrl.indexOf("?");
  const query = queryStart < 0 ? "" : publicUrl.slice(queryStart + 1).split("#")[0]!;
  const fields = new Map<string, string>();
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeText(percentDecode(eq < 0 ? pair : pair.slice(0, eq)));
    const value = decodeText(percentDecode(eq < 0 ? "" : pair.slice(eq + 1)));
    if ((REPLY_FIELDS as readonly string[]).includes(name) && fields.has(name)) {
      throw new AppError("WEBHOOK_PAYLOAD_INVALID", `The query repeats ${name}`, { errors: [{ field: name, message: "given more than once" }] });
    }
    if (!fields.has(name)) fields.set(name, value);
  }
  return fields;
}

/** The offset of Europe/Paris from UTC at an instant, in milliseconds. */
function parisOffsetMs(instantMs: number): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Paris",
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(new Date(instantMs))
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/** `ddMMyyyy-HHmmss`, read as Europe/Paris wall-clock time. */
export function parseSmsmodeReceptionDate(text: string): Date | undefined {
  const match = /^(\d{2})(\d{2})(\d{4})-(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [day, month, year, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const wallClock = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wallClock);
  const isCalendarDate =
    check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day && check.getUTCHours() === hour && check.getUTCMinutes() === minute && check.getUTCSeconds() === second;
  if (!isCalendarDate) return undefined;
  // Two passes settle the offset on either side of a daylight-saving change.
  let instant = wallClock - parisOffsetMs(wallClock);
  instant = wallClock - parisOffsetMs(instant);
  return new Date(instant);
}

/**
 * The id of a reply without `responseID` (API 2.7): a keyed hash of everything the notification
 * says, so the same notification gets the same id (dedup) and the id reveals neither phone nor code.
 */
export function deriveSmsmodeReplyId(key: string, reply: z.infer<typeof replySchema>): string {
  const fields = [reply.numero, reply.emetteur, reply.date_reception ?? "", reply.smsID ?? "", reply.refClient ?? "", reply.message];
  return `derived_${createHmac("sha256", key).update(`smsmode-reply:${JSON.stringify(fields)}`, "utf8").digest("base64url")}`;
}

function parseReplyCallback(request: InboundRequest, messageIdKey: string): ProviderMessage[] {
  const fields = readQuery(request.publicUrl);
  // A delivery report of the same API points at the same URL when the account uses one callback
  // URL for both; it is about an SMS we sent, not one a phone sent: acknowledge, store nothing.
  if (!fields.has("emetteur") && fields.has("statut")) return [];
  const parsed = replySchema.safeParse(Object.fromEntries(fields));
  if (!parsed.success) throw invalidPayload("smsmode reply callback", parsed.error);
  const p = parsed.data;
  let receivedAt: Date | undefined;
  if (p.date_reception) {
    receivedAt = parseSmsmodeReceptionDate(p.date_reception);
    if (!receivedAt) {
      throw new AppError("WEBHOOK_PAYLOAD_INVALID", "date_reception is not ddMMyyyy-HHmmss", { errors: [{ field: "date_reception", message: "not ddMMyyyy-HHmmss" }] });
    }
  }
  return [
    {
      providerMessageId: p.responseID ?? deriveSmsmodeReplyId(messageIdKey, p),
      // `emetteur` is the person who replied, `numero` our number or short code (see above).
      from: p.emetteur,
      to: p.numero,
      text: p.message,
      ...(receivedAt ? { receivedAt } : {}),
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// REST API webhook (POST JSON)
// ---------------------------------------------------------------------------------------------

const restEnvelopeSchema = z.object({
  direction: z.string().max(16).nullish(),
  channel: z.object({ type: z.string().max(32).nullish() }).nullish(),
});

const restMoSchema = z
  .object({
    messageId: z.string().min(1).max(200),
    from: z.string().min(1).max(64),
    to: z.string().min(1).max(64).nullish(),
    recipient: z.object({ to: z.string().min(1).max(64) }).nullish(),
    body: z.object({ text: z.string().max(10_000) }),
    sentDate: z.string().max(64).nullish(),
  })
  .refine((m) => Boolean(m.recipient?.to ?? m.to), { message: "recipient.to (or to) is required", path: ["recipient", "to"] });

function parseRestWebhook(request: InboundRequest): ProviderMessage[] {
  const json = parseJsonBody(request);
  const envelope = restEnvelopeSchema.safeParse(json);
  if (!envelope.success) throw invalidPayload("smsmode webhook", envelope.error);
  // Only SMS MO carries a user's code. Status callbacks of our own sends (MT) and other channels
  // (RCS, whose payloads put the user in `recipient.to`) are acknowledged so smsmode stops retrying.
  if (envelope.data.direction?.toUpperCase() !== "MO") return [];
  const channelType = envelope.data.channel?.type;
  if (channelType && channelType.toUpperCase() !== "SMS") return [];
  const parsed = restMoSchema.safeParse(json);
  if (!parsed.success) throw invalidPayload("smsmode MO webhook", parsed.error);
  const m = parsed.data;
  const receivedAt = optionalTimestamp(m.sentDate, "sentDate");
  return [
    {
      providerMessageId: m.messageId,
      from: m.from,
      to: (m.recipient?.to ?? m.to)!,
      text: m.body.text,
      ...(receivedAt ? { receivedAt } : {}),
      directionUncertain: true,
    },
  ];
}

/** `messageIdKey` keys the ids derived for replies without `responseID` (a secret of ours). */
export function createSmsmodeAdapter(settings: { tokens: readonly string[]; messageIdKey: string }): SyncProviderAdapter {
  const verifyToken = createPathTokenVerifier(settings.tokens);
  return {
    name: "smsmode",
    methods: ["GET", "POST"],
    usesPathToken: true,
    verify: (request) => verifyToken(request.pathToken),
    parse: (request) => (request.method === "GET" ? parseReplyCallback(request, settings.messageIdKey) : parseRestWebhook(request)),
    acknowledge: () => PLAIN_OK,
  };
}
