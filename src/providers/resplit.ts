// Re-split requests of signature schemes without separators (Twilio; the POST part of Plivo V3).
//
// Twilio signs URL + name1 + value1 + name2 + value2… (names sorted); Plivo V3 signs the URL + `?`
// + the query as `k=v&…` + `.` + name1 + value1…: nothing marks where a form parameter's name ends
// and its value begins, nor where the query stops. So the same signed text can be cut into other
// parameters, and one captured request replayed as a different one with the same signature:
//   - a value swallows its neighbour, or a boundary moves: `MessageSid=SM…` followed by
//     `NumMedia=0` becomes `MessageSid=SM…NumMedia0`, a new message id, and deduplication no
//     longer sees a replay (the security review replayed one wrong code five times this way and
//     locked the phone, repeatably: nothing is timed);
//   - text the sender of an SMS wrote, shaped like parameters (`…FromXXXMessageSidSM…` in the
//     body), becomes parameters of its own: a message id or a sender chosen by whoever wrote that
//     SMS and captured its signed request, while the real ones are swallowed by some other value.
// After the signature matched, the signed text is checked against what the provider documents
// (see the rules' sources below); a request that breaks a rule is refused as forged:
//   1. the message id has the documented form (Twilio: `SM`/`MM` + 32 hex digits; Plivo: a UUID),
//      so it has neither swallowed nor lost characters, and its documented aliases repeat it;
//   2. the signed text holds no other message id anywhere (so an id written into the SMS cannot
//      become the message's id, whatever the cut);
//   3. form parameter names have the provider's form (an upper-case letter, then letters and
//      digits), so no name starts inside another name or swallows separators;
//   4. the text `From` appears in the signed text only where a documented sender parameter's name
//      starts, or inside the message text: the sender cannot come from anywhere else; and a
//      message has exactly one sender and one recipient (none swallowed by a neighbour).
// The checks look at the signed text as one string (positions, not parameter by parameter), so
// that a cut through the middle of an id or of `From` does not hide it. A re-split that keeps the
// id and changes only fields we do not read is not detected: to us it is the same message, and
// deduplication on the id answers it as a duplicate.

type Param = readonly [name: string, value: string];

/** A piece of the signed text: a parameter's name or value, or a separator of the scheme. */
export type Segment = { text: string; role: "name" | "value" | "separator"; param?: string; part?: "query" | "form" };

export type ResplitRules = {
  /** The parameter that carries the message id, and the parameters documented to repeat it. */
  idParam: string;
  idAliases: readonly string[];
  /** The documented form of the id. */
  idShape: RegExp;
  /** The same form, global and unanchored: every id-shaped text of the signed text. */
  idAnywhere: RegExp;
  /** Parameters whose values are free text written by the sender of the SMS. */
  textParams: readonly string[];
  /** The documented parameter names that start with `From` (the sender and its details). */
  fromNames: readonly string[];
  /** Parameters every message carries, once (the sender and the recipient). */
  requiredParams: readonly string[];
};

/** The provider's form parameter names: an upper-case letter, then letters and digits. */
const FORM_NAME = /^[A-Z][A-Za-z0-9]{0,63}$/;
/** Names in the query of a configured URL (Plivo signs it too): plain names without `From`. */
const QUERY_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * What is wrong with the message id of parameters that cannot be re-split (a GET's %-encoded
 * query): only rule 1. Undefined when nothing is.
 */
export function messageIdProblem(params: readonly Param[], rules: ResplitRules): string | undefined {
  const valuesOf = (name: string) => params.filter(([n]) => n === name).map(([, v]) => v);
  const [id, ...others] = valuesOf(rules.idParam);
  if (id === undefined) return undefined;
  if (others.length > 0) return `${rules.idParam} more than once`;
  if (!rules.idShape.test(id)) return `${rules.idParam} is not of the documented form`;
  if (rules.idAliases.some((alias) => valuesOf(alias).some((value) => value !== id))) return `${rules.idParam} and its aliases differ`;
  return undefined;
}

/** Why the signed text can be read as other parameters (a reason for the log), or undefined. */
export function resplitProblem(segments: readonly Segment[], rules: ResplitRules): string | undefined {
  const names = segments.filter((s) => s.role === "name");
  for (const s of names) {
    if (!(s.part === "query" ? QUERY_NAME : FORM_NAME).test(s.text)) return "a parameter name not of the provider's form";
  }
  const valuesOf = (name: string) => segments.filter((s) => s.role === "value" && s.param === name).map((s) => s.text);
  for (const name of rules.fromNames) if (names.filter((s) => s.text === name).length > 1) return `${name} more than once`;

  const text = segments.map((s) => s.text).join("");
  const idProblem = messageIdProblem(
    segments.filter((s) => s.role === "value" && s.param !== undefined).map((s) => [s.param!, s.text] as const),
    rules,
  );
  if (idProblem) return idProblem;
  // A message whose sender or recipient was swallowed by a neighbouring value.
  if (valuesOf(rules.idParam).length > 0) {
    for (const name of rules.requiredParams) if (valuesOf(name).length !== 1) return `a message without exactly one ${name}`;
  }
  // An id-shaped text where no id parameter holds it: the id's name was cut, or the id is foreign.
  const [id] = valuesOf(rules.idParam);
  for (const found of text.match(rules.idAnywhere) ?? []) {
    if (id === undefined || found.toLowerCase() !== id.toLowerCase()) return "a message id in the signed text that is not the message's";
  }

  // Where each segment starts in the signed text.
  const starts: number[] = [];
  let offset = 0;
  for (const s of segments) {
    starts.push(offset);
    offset += s.text.length;
  }
  const senderNameAt = new Set(names.filter((s) => rules.fromNames.includes(s.text)).map((s) => starts[segments.indexOf(s)]!));
  const inMessageText = (at: number, length: number) =>
    segments.some((s, i) => s.role === "value" && rules.textParams.includes(s.param ?? "") && at >= starts[i]! && at + length <= starts[i]! + s.text.length);
  for (let at = text.indexOf("From"); at !== -1; at = text.indexOf("From", at + 1)) {
    if (!senderNameAt.has(at) && !inMessageText(at, 4)) return "the sender's parameter name outside its place";
  }
  return undefined;
}

/** Twilio's form parameters as signed: names sorted, each name's distinct values sorted (twilio.ts). */
export function twilioSegments(params: readonly Param[]): Segment[] {
  const byName = new Map<string, Set<string>>();
  for (const [name, value] of params) byName.set(name, (byName.get(name) ?? new Set<string>()).add(value));
  return [...byName.keys()].sort().flatMap((name) =>
    [...byName.get(name)!].sort().flatMap((value): Segment[] => [
      { text: name, role: "name", part: "form" },
      { text: value, role: "value", param: name, part: "form" },
    ]),
  );
}

/**
 * Twilio: https://www.twilio.com/docs/messaging/guides/webhook-request (MessageSid "a 34 character
 * unique identifier", SmsSid and SmsMessageSid "same value as MessageSid"; From and its details
 * FromCity, FromState, FromZip, FromCountry) and https://www.twilio.com/docs/glossary/what-is-a-sid
 * (a SID is a two-letter prefix and 32 hexadecimal digits; a Message's is `SM` or `MM`, the
 * `^(SM|MM)[0-9a-fA-F]{32}$` of Twilio's OpenAPI description of the 2010-04-01 API). Twilio adds
 * parameters without notice (webhook-request page): unknown names are accepted if they have the
 * form of Twilio's names.
 */
export const TWILIO_RESPLIT_RULES: ResplitRules = {
  idParam: "MessageSid",
  idAliases: ["SmsSid", "SmsMessageSid"],
  idShape: /^(?:SM|MM)[0-9a-fA-F]{32}$/,
  idAnywhere: /(?:SM|MM)[0-9a-fA-F]{32}/g,
  textParams: ["Body"],
  fromNames: ["From", "FromCity", "FromState", "FromZip", "FromCountry"],
  requiredParams: ["From", "To"],
};

/**
 * Plivo: https://www.plivo.com/docs/messaging/api/message/handling-incoming (MessageUUID, From,
 * To, Text, Body, Type, Units, TotalRate, TotalAmount, MessageIntent, PowerpackUUID, Media<n>…) and
 * https://www.plivo.com/docs/messaging/api/messages/ (`message_uuid`: "a 36-character string",
 * the message's UUID). Other UUIDs appear (PowerpackUUID): only one written right after the name
 * `MessageUUID` is a message id.
 */
export const PLIVO_RESPLIT_RULES: ResplitRules = {
  idParam: "MessageUUID",
  idAliases: [],
  idShape: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  idAnywhere: /(?<=MessageUUID=?)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g,
  textParams: ["Text", "Body"],
  fromNames: ["From"],
  requiredParams: ["From", "To"],
};
