// The re-split rules (src/providers/resplit.ts), table by table, on Twilio-shaped and Plivo-shaped
// parameters. Shapes from https://www.twilio.com/docs/messaging/guides/webhook-request and
// https://www.plivo.com/docs/messaging/api/message/handling-incoming.
import { describe, expect, test } from "@jest/globals";
import { PLIVO_RESPLIT_RULES, resplitProblem, TWILIO_RESPLIT_RULES, twilioSegments } from "../../../src/providers/resplit.js";
import { plivoV3Segments } from "../../../src/providers/plivo/adapter.js";

type Pair = [string, string];
const SID = "SM0123456789abcdef0123456789abcdef";
const OTHER_SID = "SMfedcba9876543210fedcba9876543210";
const TWILIO: Pair[] = [
  ["AccountSid", "AC0123456789abcdef0123456789abcdef"],
  ["Body", "123456 is my Acme code"],
  ["From", "+33612345678"],
  ["FromCountry", "FR"],
  ["MessageSid", SID],
  ["NumMedia", "0"],
  ["SmsMessageSid", SID],
  ["SmsSid", SID],
  ["To", "+447400000100"],
];
const replace = (pairs: Pair[], name: string, value: string): Pair[] => pairs.map(([k, v]) => [k, k === name ? value : v]);
const without = (pairs: Pair[], name: string): Pair[] => pairs.filter(([k]) => k !== name);
const twilio = (pairs: Pair[]) => resplitProblem(twilioSegments(pairs), TWILIO_RESPLIT_RULES);

describe("Twilio", () => {
  test("a genuine message passes, also with From in its text and an MMS media URL that repeats its id", () => {
    expect(twilio(TWILIO)).toBeUndefined();
    expect(twilio(replace(TWILIO, "Body", "From Anna: 123456 (From+33 is fine as text)"))).toBeUndefined();
    const mms = replace(replace(replace(TWILIO, "MessageSid", `MM${SID.slice(2)}`), "SmsSid", `MM${SID.slice(2)}`), "SmsMessageSid", `MM${SID.slice(2)}`);
    expect(twilio([...mms, ["MediaUrl0", `https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/MM${SID.slice(2)}/Media/ME0123`]])).toBeUndefined();
    // Twilio adds parameters without notice: unknown names of Twilio's form pass.
    expect(twilio([...TWILIO, ["ChannelMetadata", "{}"], ["NewParameter2031", "x"]])).toBeUndefined();
  });

  test.each<[string, Pair[], RegExp]>([
    ["the id swallowed the next parameter", replace(without(TWILIO, "NumMedia"), "MessageSid", `${SID}NumMedia0`), /documented form/],
    ["the id lost characters to the next name", replace(replace(TWILIO, "MessageSid", SID.slice(0, -1)), "NumMedia", "0"), /documented form/],
    ["an alias differs from the id", replace(TWILIO, "SmsSid", OTHER_SID), /aliases differ/],
    ["another id written into the text", replace(TWILIO, "Body", `123456MessageSid${OTHER_SID}`), /not the message's/],
    ["an id where no id parameter holds it", [...without(without(without(TWILIO, "MessageSid"), "SmsSid"), "SmsMessageSid"), ["X", `MessageSid${SID}`]], /not the message's/],
    ["a name that starts with a lower-case letter (cut inside a name)", [...TWILIO, ["omX", "1"]], /provider's form/],
    ["a name with a separator in it", [...TWILIO, ["To+44", "1"]], /provider's form/],
    ["the sender's name inside another value", [...replace(TWILIO, "From", "+33698765432"), ["ToZip", "From+33612345678"]], /outside its place/],
    ["the sender's name cut between a name and a value", [...TWILIO, ["ZFr", "om+33"]], /outside its place/],
    ["a sender detail twice", [...TWILIO, ["FromCountry", "GB"]], /more than once/],
    ["the sender swallowed by the text", without(replace(TWILIO, "Body", "123456From+33612345678"), "From"), /exactly one From/],
  ])("refused: %s", (_what, pairs, reason) => {
    expect(twilio(pairs)).toMatch(reason);
  });
});

describe("Plivo", () => {
  const UUID = "db3ce55a-7f1d-11e1-8ea7-1231380bc196";
  const PLIVO: Pair[] = [
    ["From", "33612345678"],
    ["MessageUUID", UUID],
    ["PowerpackUUID", "0f512bda-ae1e-4597-8e11-e5f5686b97d3"],
    ["Text", "123456"],
    ["To", "447400000100"],
    ["Type", "sms"],
    ["Units", "1"],
  ];
  const plivo = (pairs: Pair[], query = "", method: "GET" | "POST" = "POST") =>
    resplitProblem(plivoV3Segments(method, query, method === "POST" ? pairs : []), PLIVO_RESPLIT_RULES);

  test("a genuine message passes, POST with or without a configured query, and GET", () => {
    expect(plivo(PLIVO)).toBeUndefined();
    expect(plivo(PLIVO, "tenant=eu-1")).toBeUndefined();
    expect(plivo([], new URLSearchParams(PLIVO).toString(), "GET")).toBeUndefined();
  });

  test.each([
    ["the id swallowed the Powerpack's id", [["From", "33612345678"], ["MessageUUID", `${UUID}PowerpackUUID0f512bda-ae1e-4597-8e11-e5f5686b97d3`], ["Text", "1"], ["To", "1"]] as Pair[], "", /documented form/],
    ["a query that swallowed the head of the form", [["From", "33698765432"], ["MessageUUID", UUID], ["Text", "123456"], ["To", "447400000100"]] as Pair[], `From33612345678MessageUUID${UUID}Texta=b`, /provider's form|outside its place|not the message's/],
    ["a second id written into the text", replace(PLIVO, "Text", `123456MessageUUID${UUID.replace("d", "e")}`), "", /not the message's/],
  ])("refused: %s", (_what, pairs, query, reason) => {
    expect(plivo(pairs, query)).toMatch(reason);
  });
});
