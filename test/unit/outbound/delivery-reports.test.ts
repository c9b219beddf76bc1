// Known answers of each provider's delivery-report reader: the documented example (or the
// documented fields, where the page shows none) in, our one shape out. Sources per provider are
// named beside each reader, in src/providers/<name>/delivery-report.ts.
import { describe, expect, it } from "@jest/globals";
import type { InboundRequest } from "../../../src/providers/provider.js";
import { DELIVERY_REPORT_PARSERS } from "../../../src/outbound/delivery-report-service.js";
import type { DeliveryReport } from "../../../src/outbound/delivery-reports.js";
import { AppError } from "../../../src/shared/errors.js";
import { DELIVERY_REPORT_EXAMPLES } from "../../../src/openapi/openapi.js";
import { PROVIDER_NAMES } from "../../../src/providers/index.js";

const parse = (provider: string, request: InboundRequest): DeliveryReport[] => {
  const parser = DELIVERY_REPORT_PARSERS.get(provider);
  if (!parser) throw new Error(`no delivery-report reader for ${provider}`);
  return parser(request);
};

const receivedAt = new Date("2026-12-03T10:00:30.000Z");
const post = (body: string | object, type = "application/json"): InboundRequest => ({
  method: "POST",
  publicUrl: "https://otp.example.test/v1/delivery-reports/x",
  headers: { "content-type": type },
  rawBody: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  receivedAt,
});
const get = (query: Record<string, string>): InboundRequest => ({
  method: "GET",
  publicUrl: `https://otp.example.test/v1/delivery-reports/x?${new URLSearchParams(query)}`,
  headers: {},
  rawBody: Buffer.alloc(0),
  receivedAt,
});
const form = (fields: Record<string, string>) => post(new URLSearchParams(fields).toString(), "application/x-www-form-urlencoded");

describe.each<[string, InboundRequest, DeliveryReport[]]>([
  [
    "twilio",
    form({ MessageSid: "SM1a", MessageStatus: "undelivered", ErrorCode: "30003", AccountSid: "AC1", From: "+1", To: "+2", ApiVersion: "2010-04-01" }),
    [{ providerMessageId: "SM1a", status: "failed", at: receivedAt, errorCode: "30003" }],
  ],
  [
    "vonage",
    get({ msisdn: "447700900000", to: "AcmeInc", "network-code": "12345", messageId: "0A0000001234567B", price: "0.03330000", status: "delivered", scts: "2001011400", "err-code": "0", "api-key": "abcd1234", "message-timestamp": "2020-01-01 12:00:00", "client-ref": "msg_x" }),
    [{ providerMessageId: "0A0000001234567B", reference: "msg_x", status: "delivered", at: new Date("2020-01-01T12:00:00Z") }],
  ],
  ["plivo", form({ MessageUUID: "db3ce55a", Status: "delivered", ErrorCode: "000", From: "1", To: "2" }), [{ providerMessageId: "db3ce55a", status: "delivered", at: receivedAt }]],
  [
    "telnyx",
    post({ data: { event_type: "message.finalized", id: "4ee8c3a6", occurred_at: "2019-12-09T21:32:14.148+00:00", payload: { id: "40385f64", to: [{ phone_number: "+1", status: "delivery_failed" }], errors: [{ code: "40002", title: "Blocked as spam" }] } } }),
    [{ providerMessageId: "40385f64", status: "failed", at: new Date("2019-12-09T21:32:14.148Z"), errorCode: "40002" }],
  ],
  [
    "sinch",
    post({ at: "2024-06-07T14:03:26.536Z", batch_id: "01J06CY78GZ2F74YZNNH2VBWR6", code: 0, recipient: "4470", status: "Delivered", type: "recipient_delivery_report_sms", client_reference: "msg_y" }),
    [{ providerMessageId: "01J06CY78GZ2F74YZNNH2VBWR6", reference: "msg_y", status: "delivered", at: new Date("2024-06-07T14:03:26.536Z") }],
  ],
  [
    "infobip",
    post({ results: [
      { bulkId: "b", messageId: "msg_a", to: "4179", doneAt: "2019-11-09T16:00:00.000+0000", status: { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET" }, error: { id: 0, name: "NO_ERROR" } },
      { messageId: "msg_b", status: { groupName: "PENDING" } },
      { messageId: "msg_c", doneAt: "2019-11-09T16:00:00.000+0000", status: { groupName: "UNDELIVERABLE" }, error: { id: 1, name: "EC_UNKNOWN_SUBSCRIBER" } },
    ] }),
    [
      { providerMessageId: "msg_a", reference: "msg_a", status: "delivered", at: new Date("2019-11-09T16:00:00Z") },
      { providerMessageId: "msg_c", reference: "msg_c", status: "failed", at: new Date("2019-11-09T16:00:00Z"), errorCode: "EC_UNKNOWN_SUBSCRIBER" },
    ],
  ],
  ["smsmode", get({ numero: "33612345678", date_reception: "03122026-110009", statut: "11", smsID: "ZlxGFpoCzLjr", refClient: "msg_z" }), [{ providerMessageId: "ZlxGFpoCzLjr", reference: "msg_z", status: "delivered", at: receivedAt }]],
  [
    "bird",
    post({ service: "channels", event: "sms.outbound", payload: { id: "f0e0", status: "delivered", reference: "msg_b", updatedAt: "2026-12-03T10:00:10Z" } }),
    [{ providerMessageId: "f0e0", reference: "msg_b", status: "delivered", at: new Date("2026-12-03T10:00:10Z") }],
  ],
  [
    "messagebird",
    get({ id: "e8077d80", reference: "msg_m", recipient: "31612345678", status: "delivery_failed", statusDatetime: "2016-05-03T14:26:57+00:00", statusErrorCode: "104" }),
    [{ providerMessageId: "e8077d80", reference: "msg_m", status: "failed", at: new Date("2016-05-03T14:26:57Z"), errorCode: "104" }],
  ],
  ["generic", post({ messageId: "msg_g", status: "delivered" }), [{ providerMessageId: "msg_g", reference: "msg_g", status: "delivered", at: receivedAt }]],
])("%s", (provider, request, expected) => {
  it("reads the documented report", () => {
    expect(parse(provider, request)).toEqual(expected);
  });
});

describe("intermediate statuses give no report", () => {
  it.each<[string, InboundRequest]>([
    ["twilio", form({ MessageSid: "SM1", MessageStatus: "sent" })],
    ["vonage", get({ messageId: "1", status: "accepted" })],
    ["plivo", form({ MessageUUID: "u", Status: "queued" })],
    ["telnyx", post({ data: { event_type: "message.sent", payload: { id: "x", to: [{ status: "sent" }] } } })],
    ["telnyx", post({ data: { event_type: "message.finalized", payload: { id: "x", to: [{ status: "delivery_unconfirmed" }] } } })],
    ["sinch", post({ type: "recipient_delivery_report_sms", batch_id: "b", status: "Dispatched", code: 401, recipient: "1" })],
    ["smsmode", get({ smsID: "s", statut: "13" })],
    ["bird", post({ event: "sms.outbound", payload: { id: "x", status: "sent" } })],
    ["messagebird", get({ id: "x", status: "buffered" })],
  ])("%s %#", (provider, request) => {
    expect(parse(provider, request)).toEqual([]);
  });
});

describe("unreadable reports are WEBHOOK_PAYLOAD_INVALID (400), never a crash", () => {
  it.each<[string, InboundRequest]>([
    ["generic", post({ messageId: "m", status: "delivered", extra: 1 })],
    ["generic", post("not json")],
    ["twilio", form({ MessageStatus: "delivered" })],
    ["sinch", post({ type: "recipient_delivery_report_sms", status: "Delivered" })],
    ["infobip", post({ results: "x" })],
    ["telnyx", post({ data: { event_type: "message.finalized", payload: { id: "a\u0000b" } } })],
  ])("%s %#", (provider, request) => {
    expect(() => parse(provider, request)).toThrow(AppError);
  });
});

describe("the OpenAPI document's example report of each provider", () => {
  it("every provider has a reader and at least one example", () => {
    expect([...DELIVERY_REPORT_PARSERS.keys()]).toEqual(PROVIDER_NAMES);
    expect(new Set(DELIVERY_REPORT_EXAMPLES.map((e) => e.provider))).toEqual(new Set(PROVIDER_NAMES));
  });

  it.each(DELIVERY_REPORT_EXAMPLES.map((e) => [e.provider, e.contentType, e.example] as const))("%s (%s): its reader takes it as a delivered report", (provider, contentType, example) => {
    const reports = parse(provider, post(example, contentType));
    expect(reports).toHaveLength(1);
    expect(reports[0]!.status).toBe("delivered");
  });
});
