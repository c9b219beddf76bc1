// smsmode inbound SMS: the path-token check on this adapter, the HTTP API reply callback (GET
// query) and the REST webhook (POST JSON), each on fixtures shaped like smsmode's documentation,
// one malformed field per case. smsmode signs nothing and publishes no verifier, so there is no
// vector or SDK oracle; the shared token check is tested in depth in sinch.test.ts and again here
// through this adapter.
//
// The reply callback's field meanings and its documented example come from smsmode's
// "Documentation technique API HTTP" — 2.7 (FR, 2017, §12 "Notification de réponse"), 3.4 (EN,
// 2019, §13 "Sending SMS message with allowed reply and reply notification") and 3.5 (FR, 2020);
// public copies: webeweb/smsmode-library, Resources/doc/API_HTTP_2.7.pdf, doc/API_HTTP_3.4-EN.pdf,
// doc/API_HTTP_3.5-FR.pdf. "numero: sMsmode number to which the reply has been sent" (ours, here
// the short code 36034); "emetteur: MSISDN of the person who replied" (the user).
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { InboundRequest } from "../../../src/providers/provider.js";
import { createSmsmodeAdapter, deriveSmsmodeReplyId, parseSmsmodeReceptionDate } from "../../../src/providers/smsmode/adapter.js";
import { AppError } from "../../../src/shared/errors.js";
import { pathTokenNearMisses, toInboundRequest } from "../../support/providers/path-token.js";
import { formatSmsmodeReceptionDate, signSmsmodeRequest, smsmodeReply, smsmodeRestMo, type SmsmodeReply } from "../../support/providers/smsmode.js";

const FC_SEED = 20_261_125;
const NOW = new Date("2031-05-04T10:00:00.000Z");
const TOKEN = "smsmodeTok_P0o9I8u7Y6t5R4e3W2q1A2s3D4f5G6h7";
const OTHER_TOKEN = "smsmodeNew_M1n2B3v4C5x6Z7l8K9j0H1g2F3d4S5";
const ID_KEY = "test-message-id-key";

/** The documented example of versions 3.4 (EN) and 3.5 (FR), character for character. */
const DOCUMENTED_3_4 = "numero=36034&message=bonjour&emetteur=33601020304&date_reception=01012013-122233&smsID=abcd1234&refClient=monclient123&responseID=azertyu123";
/** The documented example of version 2.7 (FR): the same, without `responseID`. */
const DOCUMENTED_2_7 = "numero=36034&message=bonjour&emetteur=33601020304&date_reception=01012013-122233&smsID=abcd1234&refClient=monclient123";

/** A reply callback as documented: the user in `emetteur`, our long number in `numero`, Paris time. */
const REPLY: SmsmodeReply = {
  numero: "33700000001",
  message: "Acme Bank: 482913 is my code to log in",
  emetteur: "33612345678",
  responseID: "vtQvU5gXh0zS",
  date_reception: "04052031-120000",
  smsID: "",
  refClient: "",
};

/** A REST webhook for an SMS MO, as we read smsmode's message object. */
const REST_MO = {
  messageId: "6335ba5e1bbb1f1ad5d5b5c1",
  acceptedAt: "2031-05-04T09:59:59.000Z",
  channel: { channelId: "5d9f9b5b", type: "SMS", flowId: "f1" },
  type: "SMS",
  direction: "MO",
  from: "33612345678",
  recipient: { to: "33700000001" },
  body: { text: "Acme Bank: 482913 is my code to log in", encoding: "GSM7", messagePartCount: 1, length: 38, stop: false },
  sentDate: "2031-05-04T09:59:58.000Z",
  originMessageId: "6335ba5e1bbb1f1ad5d5b000",
  refClient: null,
  status: { value: "RECEIVED" },
};

function getRequest(query: SmsmodeReply, options: { token?: string | null; encoding?: "utf-8" | "iso-8859-15" } = {}): InboundRequest {
  const token = options.token === undefined ? TOKEN : (options.token ?? undefined);
  return toInboundRequest(signSmsmodeRequest({ token, format: "reply", query, ...(options.encoding ? { encoding: options.encoding } : {}) }), { receivedAt: NOW });
}

function rawGetRequest(queryString: string): InboundRequest {
  return toInboundRequest({ method: "GET", path: `/v1/inbound/smsmode/${TOKEN}?${queryString}`, headers: {}, body: "" }, { receivedAt: NOW });
}

function postRequest(payload: unknown, token: string | null = TOKEN): InboundRequest {
  return toInboundRequest(signSmsmodeRequest({ token: token ?? undefined, format: "rest", payload }), { receivedAt: NOW });
}

function parseError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected the payload to be refused");
}

describe("the smsmode adapter's verification", () => {
  const adapter = createSmsmodeAdapter({ tokens: [TOKEN], messageIdKey: ID_KEY });

  it("is a path-token adapter that takes GET (reply callback) and POST (REST webhook)", () => {
    expect(adapter).toMatchObject({ name: "smsmode", usesPathToken: true });
    expect([...adapter.methods].sort()).toEqual(["GET", "POST"]);
  });

  it("accepts both formats on the configured token", () => {
    expect(adapter.verify(getRequest(REPLY))).toEqual({ ok: true });
    expect(adapter.verify(postRequest(REST_MO))).toEqual({ ok: true });
  });

  it("answers WEBHOOK_SIGNATURE_MISSING when the path holds no token", () => {
    expect(adapter.verify(getRequest(REPLY, { token: null }))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
    expect(adapter.verify(postRequest(REST_MO, null))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
  });

  it.each(pathTokenNearMisses(TOKEN))("refuses a token with its $name", ({ presented }) => {
    expect(adapter.verify({ ...getRequest(REPLY), pathToken: presented })).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("does not take a token from the query string", () => {
    const inQuery = toInboundRequest({ method: "GET", path: `/v1/inbound/smsmode?token=${TOKEN}&numero=33612345678`, headers: {}, body: "" }, { receivedAt: NOW });
    expect(adapter.verify(inQuery)).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
  });

  it("accepts both tokens of a rotation list", () => {
    const rotating = createSmsmodeAdapter({ tokens: [TOKEN, OTHER_TOKEN], messageIdKey: ID_KEY });
    expect(rotating.verify(getRequest(REPLY, { token: TOKEN }))).toEqual({ ok: true });
    expect(rotating.verify(getRequest(REPLY, { token: OTHER_TOKEN }))).toEqual({ ok: true });
  });

  it("refuses every request when no token is configured", () => {
    const unconfigured = createSmsmodeAdapter({ tokens: [], messageIdKey: ID_KEY });
    expect(unconfigured.verify(getRequest(REPLY))).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
    expect(unconfigured.verify(postRequest(REST_MO))).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
  });

  it("answers 200", () => {
    expect(adapter.acknowledge([{ providerMessageId: "x", outcome: "no_pending_challenge" }]).status).toBe(200);
  });
});

describe("the smsmode HTTP API reply callback", () => {
  const adapter = createSmsmodeAdapter({ tokens: [TOKEN], messageIdKey: ID_KEY });

  it("reads the documented example of 3.4 / 3.5: emetteur is the user, numero our short code", () => {
    expect(adapter.parse(rawGetRequest(DOCUMENTED_3_4))).toEqual([
      {
        providerMessageId: "azertyu123",
        from: "33601020304",
        to: "36034",
        text: "bonjour",
        // 01/01/2013 12:22:33 in Paris is 11:22:33 UTC (CET, +01:00).
        receivedAt: new Date("2013-01-01T11:22:33.000Z"),
      },
    ]);
  });

  it("reads the documented example of 2.7 (no responseID) with a derived, stable id", () => {
    const [first] = adapter.parse(rawGetRequest(DOCUMENTED_2_7));
    const [again] = adapter.parse(rawGetRequest(DOCUMENTED_2_7));
    expect(first).toEqual({ providerMessageId: expect.stringMatching(/^derived_[A-Za-z0-9_-]{43}$/), from: "33601020304", to: "36034", text: "bonjour", receivedAt: new Date("2013-01-01T11:22:33.000Z") });
    expect(again?.providerMessageId).toBe(first?.providerMessageId);
  });

  it("derives a different id when any field differs, and one that depends on our key (no reversible digest)", () => {
    const base = { numero: "36034", emetteur: "33601020304", message: "bonjour", date_reception: "01012013-122233", smsID: "abcd1234", refClient: "monclient123" };
    const id = deriveSmsmodeReplyId(ID_KEY, base);
    for (const field of Object.keys(base) as (keyof typeof base)[]) {
      expect(deriveSmsmodeReplyId(ID_KEY, { ...base, [field]: `${base[field]}0` })).not.toBe(id);
    }
    expect(deriveSmsmodeReplyId("another-key", base)).not.toBe(id);
    // Field boundaries are part of the input: moving a character from one field to the next changes the id.
    expect(deriveSmsmodeReplyId(ID_KEY, { ...base, smsID: "abcd123", refClient: "4monclient123" })).not.toBe(id);
  });

  it("reads a reply to a long number (numero in bare international digits)", () => {
    expect(adapter.parse(getRequest(REPLY))).toEqual([
      {
        providerMessageId: "vtQvU5gXh0zS",
        from: "33612345678",
        to: "33700000001",
        text: "Acme Bank: 482913 is my code to log in",
        // 12:00 in Paris in May is 10:00 UTC (CEST, +02:00).
        receivedAt: new Date("2031-05-04T10:00:00.000Z"),
      },
    ]);
  });

  it("keeps a national emetteur as written (the core reads it with the number's country)", () => {
    expect(adapter.parse(rawGetRequest("numero=36034&message=482913&emetteur=0601020304&responseID=n1"))[0]).toMatchObject({ from: "0601020304", to: "36034" });
  });

  it("reads winter dates at +01:00 and both sides of the daylight-saving changes", () => {
    expect(parseSmsmodeReceptionDate("15012031-143000")?.toISOString()).toBe("2031-01-15T13:30:00.000Z");
    expect(parseSmsmodeReceptionDate("30032031-015959")?.toISOString()).toBe("2031-03-30T00:59:59.000Z");
    expect(parseSmsmodeReceptionDate("30032031-030000")?.toISOString()).toBe("2031-03-30T01:00:00.000Z");
    expect(parseSmsmodeReceptionDate("26102031-013000")?.toISOString()).toBe("2031-10-25T23:30:00.000Z");
    expect(parseSmsmodeReceptionDate("26102031-040000")?.toISOString()).toBe("2031-10-26T03:00:00.000Z");
  });

  it("formats and reads reception dates back to the second (property)", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("2000-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }), (date) => {
        const second = new Date(Math.floor(date.getTime() / 1000) * 1000);
        const read = parseSmsmodeReceptionDate(formatSmsmodeReceptionDate(second));
        // The hour repeated when clocks go back is ambiguous in wall-clock time: either reading is fine.
        expect([0, 3_600_000]).toContain(Math.abs(read!.getTime() - second.getTime()));
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  it("decodes `+` and %20 as spaces and UTF-8 escapes as UTF-8", () => {
    const [message] = adapter.parse(rawGetRequest("numero=36034&emetteur=33612345678&responseID=r1&message=Code+482913%20pour%20caf%C3%A9%20%E2%82%AC"));
    expect(message?.text).toBe("Code 482913 pour café €");
  });

  it("decodes a text sent as ISO-8859-15 bytes instead of mangling it", () => {
    const req = getRequest({ ...REPLY, message: "Code 482913 café €" }, { encoding: "iso-8859-15" });
    expect(req.publicUrl).toContain("caf%E9%20%A4");
    const [message] = adapter.parse(req);
    expect(message?.text).toBe("Code 482913 café €");
  });

  it("keeps an empty message (the user sent an empty SMS)", () => {
    expect(adapter.parse(getRequest({ ...REPLY, message: "" }))[0]?.text).toBe("");
  });

  it("ignores parameters smsmode may add", () => {
    expect(adapter.parse(getRequest({ ...REPLY, mcc_mnc: "20801", operateur: "Orange" }))).toHaveLength(1);
  });

  it("decodes the documented ISO-8859-15 accents (é è à ç ù €, API 2.7 \"Caractères et encodage\")", () => {
    // ISO-8859-15: é E9, è E8, à E0, ç E7, ù F9, € A4 — as single bytes, which are not UTF-8.
    const [message] = adapter.parse(rawGetRequest("numero=36034&emetteur=33601020304&message=r%E9ponse+%E8+%E0+%E7a+o%F9+5%A4+482913"));
    expect(message?.text).toBe("réponse è à ça où 5€ 482913");
  });

  it("acknowledges a delivery-report callback of the same API without a message (3.4 §12 example)", () => {
    expect(adapter.parse(rawGetRequest("numero=336xxyyzzaa&date_reception=2010-03-25+09%3A52%3A17&statut=11&smsID=S7EpYZ5kmS87&refClient=12azer34"))).toEqual([]);
  });

  const refused: [string, SmsmodeReply | string][] = [
    ["no numero", { ...REPLY, numero: undefined } as unknown as SmsmodeReply],
    ["an empty numero", { ...REPLY, numero: "" }],
    ["a numero of 65 characters", { ...REPLY, numero: "3".repeat(65) }],
    ["no message", { ...REPLY, message: undefined } as unknown as SmsmodeReply],
    ["no emetteur (we could not tell who replied)", { ...REPLY, emetteur: undefined }],
    ["a responseID of 201 characters", { ...REPLY, responseID: "r".repeat(201) }],
    ["a date_reception in ISO format", { ...REPLY, date_reception: "2031-05-04T12:00:00" }],
    ["a date_reception on February 30th", { ...REPLY, date_reception: "30022031-120000" }],
    ["a date_reception at 24:00", { ...REPLY, date_reception: "04052031-240000" }],
    ["no query at all", ""],
    ["a repeated numero", "numero=36034&numero=36035&message=482913&emetteur=33612345678&responseID=r1"],
    ["a repeated emetteur", "numero=36034&message=482913&emetteur=33612345678&emetteur=33698765432&responseID=r1"],
    ["a repeated responseID", "numero=36034&message=482913&emetteur=33612345678&responseID=r1&responseID=r2"],
  ];
  it.each(refused)("refuses %s with WEBHOOK_PAYLOAD_INVALID", (_name, query) => {
    const req = typeof query === "string" ? rawGetRequest(query) : getRequest(query);
    const error = parseError(() => adapter.parse(req));
    expect(error.code).toBe("WEBHOOK_PAYLOAD_INVALID");
    expect(error.status).toBe(400);
  });

  it("reads random replies field for field (property)", () => {
    const textArb = fc.string({ unit: "grapheme", maxLength: 500 });
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9]\d{6,14}$/), textArb, fc.string({ minLength: 1, maxLength: 200 }), (emetteur, message, responseID) => {
        const [parsed] = adapter.parse(getRequest({ numero: "36034", message, emetteur, responseID }));
        expect(parsed).toEqual({ providerMessageId: responseID, from: emetteur, to: "36034", text: message });
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });
});

describe("the smsmode REST webhook", () => {
  const adapter = createSmsmodeAdapter({ tokens: [TOKEN], messageIdKey: ID_KEY });

  it("reads an SMS MO into one message whose placement the core settles (from / recipient.to, either way round)", () => {
    expect(adapter.parse(postRequest(REST_MO))).toEqual([
      {
        providerMessageId: "6335ba5e1bbb1f1ad5d5b5c1",
        from: "33612345678",
        to: "33700000001",
        text: "Acme Bank: 482913 is my code to log in",
        receivedAt: new Date("2031-05-04T09:59:58.000Z"),
        directionUncertain: true,
      },
    ]);
  });

  it("accepts a flat `to`, a lower-case direction, no channel and no sentDate", () => {
    const { recipient: _r, channel: _c, sentDate: _s, ...rest } = REST_MO;
    expect(adapter.parse(postRequest({ ...rest, direction: "mo", to: "33700000001" }))).toEqual([
      { providerMessageId: REST_MO.messageId, from: "33612345678", to: "33700000001", text: REST_MO.body.text, directionUncertain: true },
    ]);
  });

  it.each([
    ["a status callback of a message we sent (MT)", { ...REST_MO, direction: "MT", status: { value: "DELIVERED" } }],
    ["a payload without direction", { ...REST_MO, direction: undefined }],
    ["an RCS message", { ...REST_MO, channel: { type: "RCS" }, recipient: { to: "33612345678" }, from: "AcmeAgent" }],
  ])("acknowledges %s without a message", (_name, payload) => {
    expect(adapter.parse(postRequest(payload))).toEqual([]);
  });

  const refused: [string, unknown][] = [
    ["a body that is not JSON", "messageId=1&direction=MO"],
    ["a JSON array", [REST_MO]],
    ["a numeric direction", { ...REST_MO, direction: 1 }],
    ["no messageId", { ...REST_MO, messageId: undefined }],
    ["a messageId of 201 characters", { ...REST_MO, messageId: "m".repeat(201) }],
    ["no from", { ...REST_MO, from: undefined }],
    ["no recipient and no to", { ...REST_MO, recipient: undefined }],
    ["a recipient without to", { ...REST_MO, recipient: {} }],
    ["no body", { ...REST_MO, body: undefined }],
    ["a body that is a string", { ...REST_MO, body: "482913" }],
    ["a body without text", { ...REST_MO, body: { encoding: "GSM7" } }],
    ["a text of 10,001 characters", { ...REST_MO, body: { text: "x".repeat(10_001) } }],
    ["a sentDate that is not a date", { ...REST_MO, sentDate: "04/05/2031" }],
  ];
  it.each(refused)("refuses %s with WEBHOOK_PAYLOAD_INVALID", (_name, payload) => {
    const error = parseError(() => adapter.parse(postRequest(typeof payload === "string" ? payload : JSON.stringify(payload))));
    expect(error.code).toBe("WEBHOOK_PAYLOAD_INVALID");
    expect(error.status).toBe(400);
  });

  it("reads random MO payloads field for field (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.stringMatching(/^[1-9]\d{6,14}$/),
        fc.string({ unit: "grapheme", maxLength: 1_600 }),
        fc.date({ min: new Date("2000-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }),
        (messageId, from, text, at) => {
          const payload = smsmodeRestMo({ messageId, from, to: "33700000001", text, receivedAt: at });
          expect(adapter.parse(postRequest(payload))).toEqual([{ providerMessageId: messageId, from, to: "33700000001", text, receivedAt: at, directionUncertain: true }]);
        },
      ),
      { seed: FC_SEED, numRuns: 200 },
    );
  });

  it("the test helper's reply builds what the parser reads (fixture sanity)", () => {
    const reply = smsmodeReply({ from: "+33612345678", to: "36034", text: "482913", responseID: "r9", receivedAt: NOW });
    expect(adapter.parse(getRequest(reply))).toEqual([{ providerMessageId: "r9", from: "33612345678", to: "36034", text: "482913", receivedAt: NOW }]);
  });
});
