// Infobip inbound SMS forwards (MO_JSON_2): the path-token check on this adapter, and the parser
// on a payload shaped like Infobip's documented example, one malformed field per case. Infobip
// signs nothing and publishes no verifier, so there is no vector or SDK oracle; the shared token
// check is tested in depth in sinch.test.ts and again here through this adapter.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { createInfobipAdapter } from "../../../src/providers/infobip/adapter.js";
import type { InboundRequest } from "../../../src/providers/provider.js";
import { AppError } from "../../../src/shared/errors.js";
import { formatInfobipTimestamp, infobipBatch, infobipInbound, signInfobipRequest } from "../../support/providers/infobip.js";
import { pathTokenNearMisses, toInboundRequest } from "../../support/providers/path-token.js";

const FC_SEED = 20_261_124;
const NOW = new Date("2031-05-04T10:00:00.000Z");
const TOKEN = "infobipTok_Z8x7C6v5B4n3M2l1K0j9H8g7F6d5S4";
const OTHER_TOKEN = "infobipNew_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5";

/** Shaped like the example of Infobip's "Receive inbound SMS messages" webhook page. */
const FIXTURE = {
  results: [
    {
      messageId: "817790313235066447",
      from: "385916242493",
      to: "385921004026",
      text: "QUIZ Correct answer is Paris",
      cleanText: "Correct answer is Paris",
      keyword: "QUIZ",
      receivedAt: "2019-11-09T16:00:00.000+0000",
      smsCount: 1,
      price: { pricePerMessage: 0, currency: "EUR" },
      callbackData: "callbackData",
    },
    {
      messageId: "817790313235066448",
      from: "33612345678",
      to: "447400000123",
      text: "Acme Bank: 482913 is my code to log in, sent in two parts because it is long enough",
      cleanText: "Acme Bank: 482913 is my code to log in, sent in two parts because it is long enough",
      keyword: "",
      receivedAt: "2031-05-04T09:59:58.123+0000",
      smsCount: 2,
      price: { pricePerMessage: 0, currency: "EUR" },
    },
  ],
  messageCount: 2,
  pendingMessageCount: 0,
};

type Result = Record<string, unknown>;
const firstResult = FIXTURE.results[0]!;

/** `token: null` sends the request without a token in its path. */
function request(payload: unknown = FIXTURE, token: string | null = TOKEN): InboundRequest {
  return toInboundRequest(signInfobipRequest({ token: token ?? undefined, payload }), { receivedAt: NOW });
}

function withFirst(change: Result): unknown {
  return { ...FIXTURE, results: [{ ...firstResult, ...change }, FIXTURE.results[1]] };
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

describe("the Infobip adapter's verification", () => {
  const adapter = createInfobipAdapter({ tokens: [TOKEN] });

  it("is a path-token adapter that takes POST only", () => {
    expect(adapter).toMatchObject({ name: "infobip", usesPathToken: true, methods: ["POST"] });
  });

  it("accepts the request on the configured token", () => {
    expect(adapter.verify(request())).toEqual({ ok: true });
  });

  it("answers WEBHOOK_SIGNATURE_MISSING when the path holds no token", () => {
    expect(adapter.verify(request(FIXTURE, null))).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_MISSING" });
  });

  it.each(pathTokenNearMisses(TOKEN))("refuses a token with its $name", ({ presented }) => {
    expect(adapter.verify({ ...request(), pathToken: presented })).toMatchObject({ ok: false, code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("accepts both tokens of a rotation list, and refuses a token no longer listed", () => {
    const rotating = createInfobipAdapter({ tokens: [OTHER_TOKEN, TOKEN] });
    expect(rotating.verify(request(FIXTURE, TOKEN))).toEqual({ ok: true });
    expect(rotating.verify(request(FIXTURE, OTHER_TOKEN))).toEqual({ ok: true });
    expect(createInfobipAdapter({ tokens: [OTHER_TOKEN] }).verify(request(FIXTURE, TOKEN))).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  it("refuses every request when no token is configured", () => {
    expect(createInfobipAdapter({ tokens: [] }).verify(request())).toMatchObject({ ok: false, code: "WEBHOOK_NOT_CONFIGURED" });
  });

  it("answers 200 for a batch, whatever the outcomes", () => {
    expect(
      adapter.acknowledge([
        { providerMessageId: "a", outcome: "verified" },
        { providerMessageId: "b", outcome: "duplicate" },
      ]).status,
    ).toBe(200);
  });
});

describe("the Infobip adapter's parser", () => {
  const adapter = createInfobipAdapter({ tokens: [TOKEN] });

  it("returns every message of a documented batch, with its full text, parts and receive time", () => {
    expect(adapter.parse(request())).toEqual([
      {
        providerMessageId: "817790313235066447",
        from: "385916242493",
        to: "385921004026",
        text: "QUIZ Correct answer is Paris",
        receivedAt: new Date("2019-11-09T16:00:00.000Z"),
        parts: 1,
      },
      {
        providerMessageId: "817790313235066448",
        from: "33612345678",
        to: "447400000123",
        text: "Acme Bank: 482913 is my code to log in, sent in two parts because it is long enough",
        receivedAt: new Date("2031-05-04T09:59:58.123Z"),
        parts: 2,
      },
    ]);
  });

  it("falls back to cleanText when text is missing", () => {
    const [message] = adapter.parse(request(withFirst({ text: undefined })));
    expect(message?.text).toBe("Correct answer is Paris");
  });

  it("acknowledges an empty batch without messages", () => {
    expect(adapter.parse(request({ results: [], messageCount: 0, pendingMessageCount: 0 }))).toEqual([]);
  });

  it("accepts fields Infobip may add and null optional fields", () => {
    expect(adapter.parse(request(withFirst({ applicationId: "default", entityId: null, newField: [1, 2] })))).toHaveLength(2);
    const [message] = adapter.parse(request(withFirst({ keyword: null, smsCount: null, receivedAt: null, cleanText: null })));
    expect(message).toEqual({ providerMessageId: firstResult.messageId, from: firstResult.from, to: firstResult.to, text: firstResult.text });
  });

  it("skips delivery reports that share the URL and keeps the inbound messages beside them", () => {
    const report = {
      bulkId: "BULK-1",
      messageId: "MSG-REPORT",
      to: "41793026727",
      sentAt: "2031-05-04T09:00:00.000+0000",
      doneAt: "2031-05-04T09:00:05.000+0000",
      smsCount: 1,
      status: { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET" },
      error: { groupId: 0, groupName: "OK", id: 0, name: "NO_ERROR" },
    };
    const messages = adapter.parse(request({ results: [report, FIXTURE.results[1]], messageCount: 2, pendingMessageCount: 0 }));
    expect(messages.map((m) => m.providerMessageId)).toEqual(["817790313235066448"]);
    expect(adapter.parse(request({ results: [report], messageCount: 1, pendingMessageCount: 0 }))).toEqual([]);
  });

  const refused: [string, unknown][] = [
    ["a body that is not JSON", "results=1"],
    ["a JSON array", FIXTURE.results],
    ["no results", { messageCount: 0 }],
    ["results that are an object", { results: firstResult }],
    ["a result that is a string", { results: ["817790313235066447"] }],
    ["1,001 results", { results: Array.from({ length: 1_001 }, () => firstResult) }],
    ["a negative messageCount", { ...FIXTURE, messageCount: -1 }],
    ["no messageId", withFirst({ messageId: undefined })],
    ["a numeric messageId", withFirst({ messageId: 817790313235066447 })],
    ["a messageId of 201 characters", withFirst({ messageId: "1".repeat(201) })],
    ["no from", withFirst({ from: undefined })],
    ["an empty from", withFirst({ from: "" })],
    ["no to", withFirst({ to: undefined })],
    ["neither text nor cleanText", withFirst({ text: undefined, cleanText: undefined })],
    ["a numeric text", withFirst({ text: 482913 })],
    ["a text of 10,001 characters", withFirst({ text: "x".repeat(10_001) })],
    ["a receivedAt that is not a date", withFirst({ receivedAt: "09.11.2019 16:00" })],
    ["a receivedAt on February 30th", withFirst({ receivedAt: "2019-02-30T16:00:00.000+0000" })],
    ["an smsCount of 0", withFirst({ smsCount: 0 })],
    ["an smsCount of 1.5", withFirst({ smsCount: 1.5 })],
    ["an smsCount given as text", withFirst({ smsCount: "1" })],
  ];
  it.each(refused)("refuses the whole batch for %s with WEBHOOK_PAYLOAD_INVALID", (_name, payload) => {
    const error = parseError(() => adapter.parse(request(typeof payload === "string" ? payload : JSON.stringify(payload))));
    expect(error.code).toBe("WEBHOOK_PAYLOAD_INVALID");
    expect(error.status).toBe(400);
  });

  it("names the batch position of a malformed message", () => {
    const error = parseError(() => adapter.parse(request({ ...FIXTURE, results: [FIXTURE.results[1], { ...firstResult, from: 42 }] })));
    expect(error.extra.errors?.[0]?.field).toBe("results.1.from");
  });

  it("reads random batches message for message, in order (property)", () => {
    const messageArb = fc.record({
      messageId: fc.string({ minLength: 1, maxLength: 200 }),
      from: fc.string({ minLength: 1, maxLength: 64 }),
      to: fc.string({ minLength: 1, maxLength: 64 }),
      text: fc.string({ maxLength: 1_600 }),
      smsCount: fc.integer({ min: 1, max: 10 }),
      receivedAt: fc.date({ min: new Date("2000-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }),
    });
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 20 }), (messages) => {
        const payload = infobipBatch(messages.map((m) => ({ ...infobipInbound({ ...m, receivedAt: m.receivedAt }), from: m.from, to: m.to })));
        expect(adapter.parse(request(payload))).toEqual(
          messages.map((m) => ({ providerMessageId: m.messageId, from: m.from, to: m.to, text: m.text, parts: m.smsCount, receivedAt: new Date(formatInfobipTimestamp(m.receivedAt).replace("+0000", "Z")) })),
        );
      }),
      { seed: FC_SEED, numRuns: 100 },
    );
  });
});
