// Every provider's send request, as sent to a local stand-in of its API on 127.0.0.1: method, path,
// auth and body as the provider documents them (source in each block), and where an official SDK
// exists, the SDK sends the same fields to the same stand-in (the oracle). Then the answers:
// accepted with the provider's id, retryable (429, 5xx, network error, timeout, throttling codes),
// refused (4xx, permanent codes).
import https from "node:https";
import { EventEmitter } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createRequire } from "node:module";
import { AuthType, Infobip } from "@infobip-api/sdk";
import { SmsService } from "@sinch/sdk-core";
import { SMS as VonageSms } from "@vonage/sms";
import messagebird from "messagebird";
import plivo from "plivo";
import Telnyx from "telnyx";
import twilio from "twilio";
import { Webhook } from "standardwebhooks";
import { verifyStandardWebhook } from "../../../src/providers/standard-webhooks.js";
import { birdProtocol } from "../../../src/providers/bird/sender.js";
import { genericProtocol } from "../../../src/providers/generic/sender.js";
import { infobipProtocol } from "../../../src/providers/infobip/sender.js";
import { messageBirdProtocol } from "../../../src/providers/messagebird/sender.js";
import { plivoProtocol } from "../../../src/providers/plivo/sender.js";
import { sinchProtocol } from "../../../src/providers/sinch/sender.js";
import { encodeLatin9, smsmodeProtocol } from "../../../src/providers/smsmode/sender.js";
import { telnyxProtocol } from "../../../src/providers/telnyx/sender.js";
import { twilioProtocol } from "../../../src/providers/twilio/sender.js";
import { vonageProtocol } from "../../../src/providers/vonage/sender.js";
import { createSenderRegistry, deliveryReportUrl } from "../../../src/outbound/sender-registry.js";
import { createHttpSender, type OutboundSms, type SendResult } from "../../../src/outbound/sms-sender.js";
import { loadConfig } from "../../../src/config.js";
import { closedPort, startStandIn, type StandIn } from "../../support/outbound/stand-in.js";

// The plivo SDK requires axios as CommonJS: its defaults are those of the CommonJS module instance.
const axios = createRequire(import.meta.url)("axios") as typeof import("axios").default;

const SMS: OutboundSms = { messageId: "msg_4Rn0wQk8ZzYb1cX2vT7pLm", from: "+447400000100", to: "+33612345678", text: "123456 is your Acme code to confirm 49.90 EUR to Shop. Do not share it." };
const UNICODE_SMS: OutboundSms = { ...SMS, text: "123456 est votre code 東京 pour vous connecter." };
const CALLBACK = "https://otp.example.test/v1/delivery-reports/x";
const OPTIONS = { timeoutMs: 5000 };

let stand: StandIn;
beforeAll(async () => {
  stand = await startStandIn();
});
afterAll(async () => {
  await stand.close();
});

const form = (body: Buffer) => Object.fromEntries(new URLSearchParams(body.toString("utf8")));
const json = (body: Buffer) => JSON.parse(body.toString("utf8")) as Record<string, unknown>;
const basic = (header: string | undefined) => Buffer.from((header ?? "").replace(/^Basic /, ""), "base64").toString("utf8");

describe("Twilio Messages API", () => {
  // https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
  const settings = { accountSid: `AC${"a1".repeat(16)}`, authToken: "twilio-auth-token", baseUrl: "", statusCallbackUrl: CALLBACK };

  it("POSTs To, From, Body and StatusCallback as a form with Basic AccountSid:AuthToken, and reads the sid", async () => {
    stand.answer({ status: 201, body: { sid: "SM0123456789abcdef0123456789abcdef", status: "queued" } });
    const result = await createHttpSender(twilioProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS);
    expect(result).toEqual({ kind: "accepted", providerMessageId: "SM0123456789abcdef0123456789abcdef", status: 201 });
    const req = stand.last();
    expect(req.method).toBe("POST");
    expect(req.path).toBe(`/2010-04-01/Accounts/${settings.accountSid}/Messages.json`);
    expect(basic(req.headers.authorization)).toBe(`${settings.accountSid}:twilio-auth-token`);
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(form(req.body)).toEqual({ To: SMS.to, From: SMS.from, Body: SMS.text, StatusCallback: CALLBACK });
  });

  it("builds what the twilio SDK builds (oracle: its request, captured by a custom httpClient)", async () => {
    let captured: { method: string; uri: string; username: string; password: string; data: Record<string, string> } | undefined;
    const client = twilio(settings.accountSid, settings.authToken, {
      httpClient: { request: async (o: never) => ((captured = o), { statusCode: 201, body: JSON.stringify({ sid: "SM1" }), headers: {} }) } as never,
    });
    await client.messages.create({ to: SMS.to, from: SMS.from, body: SMS.text, statusCallback: CALLBACK });
    const ours = twilioProtocol.build({ ...settings, baseUrl: "https://api.twilio.com" }, SMS);
    expect(captured!.method.toUpperCase()).toBe(ours.method);
    expect(captured!.uri).toBe(ours.url);
    expect(basic(ours.headers.authorization)).toBe(`${captured!.username}:${captured!.password}`);
    expect(form(Buffer.from(ours.body))).toEqual(captured!.data);
  });

  it("refuses on Twilio's 400 with its error code, retries on 429 with Retry-After", async () => {
    stand.answer(
      { status: 400, body: { code: 21211, message: "Invalid 'To' Phone Number", status: 400 } },
      { status: 429, body: { code: 20429, message: "Too Many Requests" }, headers: { "retry-after": "7" } },
    );
    const sender = createHttpSender(twilioProtocol, { ...settings, baseUrl: stand.url }, OPTIONS);
    expect(await sender.send(SMS)).toMatchObject({ kind: "refused", status: 400, errorCode: "21211" });
    expect(await sender.send(SMS)).toMatchObject({ kind: "retryable", status: 429, retryAfterSeconds: 7 });
  });
});

describe("Vonage SMS API", () => {
  // https://developer.vonage.com/en/api/sms#send-an-sms and …/messaging/sms/guides/troubleshooting-sms
  const settings = { apiKey: "vonage-key", apiSecret: "vonage-secret", baseUrl: "", deliveryReceiptUrl: CALLBACK };

  it("POSTs api_key, api_secret, from, to (digits), text, type, client-ref and callback to /sms/json", async () => {
    stand.answer({ status: 200, body: { "message-count": "1", messages: [{ to: "33612345678", "message-id": "0C000000217B7F02", status: "0" }] } });
    const result = await createHttpSender(vonageProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS);
    expect(result).toEqual({ kind: "accepted", providerMessageId: "0C000000217B7F02", status: 200 });
    const req = stand.last();
    expect([req.method, req.path]).toEqual(["POST", "/sms/json"]);
    expect(form(req.body)).toEqual({
      api_key: "vonage-key",
      api_secret: "vonage-secret",
      from: "447400000100",
      to: "33612345678",
      text: SMS.text,
      type: "text",
      "client-ref": SMS.messageId,
      callback: CALLBACK,
    });
  });

  it("asks for type=unicode when the text is not GSM-7", () => {
    expect(form(Buffer.from(vonageProtocol.build({ ...settings, baseUrl: "x" }, UNICODE_SMS).body)).type).toBe("unicode");
  });

  it("sends the message fields the @vonage/sms SDK sends (oracle, to the same stand-in)", async () => {
    stand.answer({ status: 200, body: { "message-count": "1", messages: [{ "message-id": "X", status: "0" }] } });
    await new VonageSms({ apiKey: "vonage-key", apiSecret: "vonage-secret" } as never, { restHost: stand.url } as never).send({
      to: "33612345678",
      from: "447400000100",
      text: SMS.text,
      clientRef: SMS.messageId,
      callback: CALLBACK,
    } as never);
    const sdk = stand.last();
    expect(sdk.path).toBe("/sms/json");
    // The SDK puts the credentials in Basic auth and the fields in JSON; the API takes both forms.
    expect(basic(sdk.headers.authorization)).toBe("vonage-key:vonage-secret");
    const ours = form(Buffer.from(vonageProtocol.build(settings, SMS).body));
    const { api_key: _k, api_secret: _s, type: _t, ...fields } = ours;
    expect(fields).toEqual(json(sdk.body));
  });

  it.each<[string, SendResult["kind"]]>([
    ["1", "retryable"],
    ["5", "retryable"],
    ["3", "refused"],
    ["7", "refused"],
    ["9", "refused"],
  ])("reads status %s as %s", async (code, kind) => {
    stand.answer({ status: 200, body: { "message-count": "1", messages: [{ status: code, "error-text": "x" }] } });
    expect((await createHttpSender(vonageProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS)).kind).toBe(kind);
  });
});

describe("Plivo Message API", () => {
  // https://www.plivo.com/docs/messaging/api/message/send-a-message
  const settings = { authId: "MAXXXXXXXXXXXXXXXXXX", authToken: "plivo-auth-token", baseUrl: "", statusCallbackUrl: CALLBACK };

  it("POSTs src, dst, text, type, url and method as JSON with Basic auth_id:auth_token, and reads message_uuid", async () => {
    stand.answer({ status: 202, body: { api_id: "a", message: "message(s) queued", message_uuid: ["db3ce55a-7f1d-11e1-8ea7-1231380bc196"] } });
    const result = await createHttpSender(plivoProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS);
    expect(result).toEqual({ kind: "accepted", providerMessageId: "db3ce55a-7f1d-11e1-8ea7-1231380bc196", status: 202 });
    const req = stand.last();
    expect([req.method, req.path]).toEqual(["POST", "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/"]);
    expect(basic(req.headers.authorization)).toBe("MAXXXXXXXXXXXXXXXXXX:plivo-auth-token");
    expect(json(req.body)).toEqual({ src: "447400000100", dst: "33612345678", text: SMS.text, type: "sms", url: CALLBACK, method: "POST" });
  });

  it("builds what the plivo SDK builds (oracle: its request, captured at the axios adapter)", async () => {
    const previous = axios.defaults.adapter;
    let captured: { url?: string; method?: string; data?: string; headers?: Record<string, string> } | undefined;
    axios.defaults.adapter = async (config: import("axios").InternalAxiosRequestConfig) => {
      captured = { url: config.url, method: config.method, data: config.data as string, headers: config.headers as unknown as Record<string, string> };
      return { data: { message_uuid: ["u"] }, status: 202, statusText: "Accepted", headers: {}, config };
    };
    try {
      const client = new plivo.Client(settings.authId, settings.authToken);
      await (client.messages as unknown as { create(p: object): Promise<unknown> }).create({ src: "447400000100", dst: "33612345678", text: SMS.text, type: "sms", url: CALLBACK, method: "POST" } as never);
    } finally {
      axios.defaults.adapter = previous;
    }
    const ours = plivoProtocol.build({ ...settings, baseUrl: "https://api.plivo.com" }, SMS);
    expect(captured!.method?.toUpperCase()).toBe("POST");
    expect(captured!.url).toBe(ours.url);
    expect(captured!.headers?.Authorization).toBe(ours.headers.authorization);
    expect(JSON.parse(captured!.data!)).toEqual(json(Buffer.from(ours.body)));
  });

  it("refuses on Plivo's 400 error", async () => {
    stand.answer({ status: 400, body: { api_id: "a", error: "invalid dst" } });
    expect(await createHttpSender(plivoProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS)).toMatchObject({ kind: "refused", status: 400 });
  });
});

describe("Telnyx Messaging API", () => {
  // https://developers.telnyx.com/api/messaging/send-message
  const settings = { apiKey: "KEY0123456789", baseUrl: "", webhookUrl: CALLBACK };

  it("POSTs from, to, text and webhook_url as JSON with a Bearer key, and reads data.id", async () => {
    stand.answer({ status: 200, body: { data: { id: "40385f64-5717-4562-b3fc-2c963f66afa6", record_type: "message" } } });
    const result = await createHttpSender(telnyxProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS);
    expect(result).toEqual({ kind: "accepted", providerMessageId: "40385f64-5717-4562-b3fc-2c963f66afa6", status: 200 });
    const req = stand.last();
    expect([req.method, req.path, req.headers.authorization]).toEqual(["POST", "/v2/messages", "Bearer KEY0123456789"]);
    expect(json(req.body)).toEqual({ from: SMS.from, to: SMS.to, text: SMS.text, webhook_url: CALLBACK });
  });

  it("sends what the telnyx SDK sends (oracle, to the same stand-in)", async () => {
    stand.answer({ status: 200, body: { data: { id: "x" } } });
    await new Telnyx({ apiKey: "KEY0123456789", baseURL: `${stand.url}/v2` }).messages.send({ from: SMS.from, to: SMS.to, text: SMS.text, webhook_url: CALLBACK });
    const sdk = stand.last();
    const ours = telnyxProtocol.build({ ...settings, baseUrl: stand.url }, SMS);
    expect(`${stand.url}${sdk.path}`).toBe(ours.url);
    expect(sdk.headers.authorization).toBe(ours.headers.authorization);
    expect(json(sdk.body)).toEqual(json(Buffer.from(ours.body)));
  });

  it("refuses on a 422 with Telnyx's error code", async () => {
    stand.answer({ status: 422, body: { errors: [{ code: "40310", title: "Invalid 'to' address" }] } });
    expect(await createHttpSender(telnyxProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS)).toMatchObject({ kind: "refused", errorCode: "40310" });
  });
});

describe("Sinch SMS REST API", () => {
  // https://developers.sinch.com/docs/sms/api-reference/sms/batches (send), TextRequest of @sinch/sms
  const settings = { servicePlanId: "jd63jf88477ll123ab4567cd89012ef3", apiToken: "sinch-token", baseUrl: "", callbackUrl: CALLBACK };

  it("POSTs a per-recipient batch with callback_url and client_reference, and reads the batch id", async () => {
    stand.answer({ status: 201, body: { id: "01FC66621XXXXX119Z8PMV1QPQ", to: ["33612345678"] } });
    const result = await createHttpSender(sinchProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS);
    expect(result).toEqual({ kind: "accepted", providerMessageId: "01FC66621XXXXX119Z8PMV1QPQ", status: 201 });
    const req = stand.last();
    expect([req.method, req.path, req.headers.authorization]).toEqual(["POST", `/xms/v1/${settings.servicePlanId}/batches`, "Bearer sinch-token"]);
    expect(json(req.body)).toEqual({
      from: SMS.from,
      to: [SMS.to],
      body: SMS.text,
      type: "mt_text",
      delivery_report: "per_recipient",
      callback_url: CALLBACK,
      client_reference: SMS.messageId,
    });
  });

  it("sends what the Sinch SDK sends (oracle, to the same stand-in)", async () => {
    stand.answer({ status: 201, body: { id: "b" } });
    const sdk = new SmsService({ servicePlanId: settings.servicePlanId, apiToken: "sinch-token", smsHostname: stand.url } as never);
    await sdk.batches.send({
      sendSMSRequestBody: {
        from: SMS.from,
        to: [SMS.to],
        body: SMS.text,
        type: "mt_text",
        delivery_report: "per_recipient",
        callback_url: CALLBACK,
        client_reference: SMS.messageId,
      },
    } as never);
    const sent = stand.last();
    const ours = sinchProtocol.build({ ...settings, baseUrl: stand.url }, SMS);
    expect(`${stand.url}${sent.path}`).toBe(ours.url);
    expect(sent.headers.authorization).toBe(ours.headers.authorization);
    expect(json(sent.body)).toEqual(json(Buffer.from(ours.body)));
  });
});

describe("Infobip SMS API", () => {
  // https://www.infobip.com/docs/api/channels/sms/sms-messaging/outbound-sms/send-sms-message, @infobip-api/sdk
  const settings = { apiKey: "infobip-key", baseUrl: "", notifyUrl: CALLBACK };

  it("POSTs messages[].destinations with our messageId and notifyUrl, with App auth, and reads the status group", async () => {
    stand.answer({
      status: 200,
      body: { bulkId: "b", messages: [{ to: "33612345678", status: { groupId: 1, groupName: "PENDING", id: 26, name: "PENDING_ACCEPTED" }, messageId: SMS.messageId }] },
    });
    const result = await createHttpSender(infobipProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS);
    expect(result).toEqual({ kind: "accepted", providerMessageId: SMS.messageId, status: 200 });
    const req = stand.last();
    expect([req.method, req.path, req.headers.authorization]).toEqual(["POST", "/sms/2/text/advanced", "App infobip-key"]);
    expect(json(req.body)).toEqual({
      messages: [{ from: "447400000100", destinations: [{ to: "33612345678", messageId: SMS.messageId }], text: SMS.text, notifyUrl: CALLBACK, notifyContentType: "application/json" }],
    });
  });

  it("sends the messages the Infobip SDK sends (oracle, to the same stand-in)", async () => {
    stand.answer({ status: 200, body: { messages: [] } });
    const sdk = new Infobip({ baseUrl: stand.url, apiKey: "infobip-key", authType: AuthType.ApiKey });
    await sdk.channels.sms.send({
      messages: [{ from: "447400000100", destinations: [{ to: "33612345678", messageId: SMS.messageId }], text: SMS.text, notifyUrl: CALLBACK, notifyContentType: "application/json" }],
    } as never);
    const sent = stand.last();
    const ours = infobipProtocol.build({ ...settings, baseUrl: stand.url }, SMS);
    expect(`${stand.url}${sent.path}`).toBe(ours.url);
    expect(sent.headers.authorization).toBe(ours.headers.authorization);
    expect(json(sent.body).messages).toEqual(json(Buffer.from(ours.body)).messages);
  });

  it("refuses a message Infobip REJECTED in a 200", async () => {
    stand.answer({ status: 200, body: { messages: [{ status: { groupId: 5, groupName: "REJECTED", name: "REJECTED_DESTINATION" }, messageId: "m" }] } });
    expect(await createHttpSender(infobipProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS)).toMatchObject({ kind: "refused", errorCode: "REJECTED_DESTINATION" });
  });
});

describe("smsmode HTTP API 1.6", () => {
  // https://www.smsmode.com/documentation-api-http/ (sendSMS.do; the site's example request). No Node SDK.
  const settings = { accessToken: "smsmode-token", baseUrl: "", notificationUrl: CALLBACK };

  it("POSTs accessToken, message (ISO-8859-15), numero, emetteur, refClient and notification_url, and reads the smsID", async () => {
    stand.answer({ status: 200, body: "0 | Accepté | ZlxGFpoCzLjr" });
    const text = "123456 ist dein Code für Acme zur Bestätigung von 49,90 € an Shop.";
    const result = await createHttpSender(smsmodeProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send({ ...SMS, text });
    expect(result).toEqual({ kind: "accepted", providerMessageId: "ZlxGFpoCzLjr", status: 200 });
    const req = stand.last();
    expect([req.method, req.path]).toEqual(["POST", "/http/1.6/sendSMS.do"]);
    const body = req.body.toString("latin1");
    // € is 0xA4 and ü 0xFC in ISO-8859-15.
    expect(body).toContain("message=123456+ist+dein+Code+f%FCr+Acme+zur+Best%E4tigung+von+49%2C90+%A4+an+Shop.");
    const fields = Object.fromEntries(body.split("&").map((kv) => kv.split("=") as [string, string]));
    expect(fields).toMatchObject({ accessToken: "smsmode-token", numero: "33612345678", emetteur: "447400000100", refClient: SMS.messageId });
    expect(decodeURIComponent(fields.notification_url!)).toBe(CALLBACK);
  });

  it("refuses a text outside ISO-8859-15 before sending anything", async () => {
    const before = stand.requests.length;
    expect(await createHttpSender(smsmodeProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(UNICODE_SMS)).toMatchObject({ kind: "refused" });
    expect(stand.requests.length).toBe(before);
    expect(encodeLatin9("€Œœ").toString("hex")).toBe("a4bcbd");
  });

  it.each<[string, SendResult["kind"]]>([
    ["32 | Erreur d'authentification", "refused"],
    ["33 | Crédits insuffisants", "refused"],
    ["31 | Erreur interne", "retryable"],
    ["50 | Temporairement inaccessible", "retryable"],
  ])("reads %j as %s", async (answer, kind) => {
    stand.answer({ status: 200, body: answer });
    expect((await createHttpSender(smsmodeProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS)).kind).toBe(kind);
  });
});

describe("Bird Channels API", () => {
  // https://docs.bird.com/api/channels-api/supported-channels/programmable-sms/sending-sms-messages. No Node SDK.
  const settings = { accessKey: "bird-key", workspaceId: "ws-1", channels: new Map([[SMS.from, "ch-1"]]), baseUrl: "" };

  it("POSTs to the channel of our number, with AccessKey auth, receiver contact, text body and our reference", async () => {
    stand.answer({ status: 202, body: { id: "f0e0d8c3-7b4e-4a9e-9f4a-0a0b0c0d0e0f", status: "accepted" } });
    const result = await createHttpSender(birdProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS);
    expect(result).toEqual({ kind: "accepted", providerMessageId: "f0e0d8c3-7b4e-4a9e-9f4a-0a0b0c0d0e0f", status: 202 });
    const req = stand.last();
    expect([req.method, req.path, req.headers.authorization]).toEqual(["POST", "/workspaces/ws-1/channels/ch-1/messages", "AccessKey bird-key"]);
    expect(json(req.body)).toEqual({
      receiver: { contacts: [{ identifierKey: "phonenumber", identifierValue: SMS.to }] },
      body: { type: "text", text: { text: SMS.text } },
      reference: SMS.messageId,
    });
  });

  it("refuses a number without a configured channel, sending nothing", async () => {
    const before = stand.requests.length;
    const result = await createHttpSender(birdProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send({ ...SMS, from: "+447400000999" });
    expect(result).toMatchObject({ kind: "refused" });
    expect(stand.requests.length).toBe(before);
  });
});

describe("MessageBird SMS API", () => {
  // https://developers.messagebird.com/api/sms-messaging/#send-outbound-sms, the messagebird SDK
  const settings = { accessKey: "mb-access-key", baseUrl: "", reportUrl: CALLBACK };

  it("POSTs originator, recipients, body, reference, reportUrl and datacoding with AccessKey auth, and reads the id", async () => {
    stand.answer({ status: 201, body: { id: "e8077d803532c0b5937c639b60216938", direction: "mt" } });
    const result = await createHttpSender(messageBirdProtocol, { ...settings, baseUrl: stand.url }, OPTIONS).send(SMS);
    expect(result).toEqual({ kind: "accepted", providerMessageId: "e8077d803532c0b5937c639b60216938", status: 201 });
    const req = stand.last();
    expect([req.method, req.path, req.headers.authorization]).toEqual(["POST", "/messages", "AccessKey mb-access-key"]);
    expect(json(req.body)).toEqual({ originator: "447400000100", recipients: ["33612345678"], body: SMS.text, reference: SMS.messageId, reportUrl: CALLBACK, datacoding: "auto" });
  });

  it("builds what the messagebird SDK builds (oracle: its https request, captured)", async () => {
    const original = https.request;
    let captured: { options: { hostname: string; path: string; method: string; headers: Record<string, string> }; body: string } | undefined;
    (https as { request: unknown }).request = (options: never) => {
      const req = new EventEmitter() as EventEmitter & { end(b?: string): void; abort(): void };
      req.end = (body = "") => {
        captured = { options, body };
        const res = Object.assign(new EventEmitter(), { statusCode: 201, headers: {} });
        req.emit("response", res);
        res.emit("data", Buffer.from(JSON.stringify({ id: "x" })));
        res.emit("end");
      };
      req.abort = () => undefined;
      return req;
    };
    try {
      const client = messagebird.initClient("mb-access-key");
      await new Promise((resolve, reject) =>
        client.messages.create(
          { originator: "447400000100", recipients: ["33612345678"], body: SMS.text, reference: SMS.messageId, reportUrl: CALLBACK, datacoding: "auto" } as never,
          (error: unknown, value: unknown) => (error ? reject(error) : resolve(value)),
        ),
      );
    } finally {
      (https as { request: unknown }).request = original;
    }
    const ours = messageBirdProtocol.build({ ...settings, baseUrl: "https://rest.messagebird.com" }, SMS);
    expect(`https://${captured!.options.hostname}${captured!.options.path}`).toBe(ours.url);
    expect(captured!.options.method).toBe("POST");
    expect(captured!.options.headers.Authorization).toBe(ours.headers.authorization);
    // The SDK joins the recipients into one comma-separated string; the API reference documents an
    // array, which we send. Both name the same recipients.
    const sdkBody = JSON.parse(captured!.body) as Record<string, unknown>;
    expect({ ...sdkBody, recipients: String(sdkBody.recipients).split(",") }).toEqual(json(Buffer.from(ours.body)));
  });
});

describe("the generic provider", () => {
  // PRODUCT.md, "Generic provider, outbound"; Standard Webhooks (https://www.standardwebhooks.com/)
  const secret = `whsec_${Buffer.from("generic-outbound-test-secret-32b").toString("base64")}`;
  const now = new Date("2026-12-03T08:00:00Z");

  it("POSTs { messageId, from, to, text } signed per Standard Webhooks with the message id as webhook-id", async () => {
    stand.answer({ status: 204 });
    const result = await createHttpSender(genericProtocol, { url: `${stand.url}/sms`, secret, now: () => now }, OPTIONS).send(SMS);
    expect(result).toEqual({ kind: "accepted", providerMessageId: SMS.messageId, status: 204 });
    const req = stand.last();
    expect([req.method, req.path]).toEqual(["POST", "/sms"]);
    expect(json(req.body)).toEqual({ messageId: SMS.messageId, from: SMS.from, to: SMS.to, text: SMS.text });
    expect(req.headers["webhook-id"]).toBe(SMS.messageId);
    const headers = { id: req.headers["webhook-id"] as string, timestamp: req.headers["webhook-timestamp"] as string, signature: req.headers["webhook-signature"] as string };
    expect(verifyStandardWebhook([secret], headers, req.body, now)).toEqual({ ok: true });
    // The standardwebhooks package signs the same bytes to the same signature (oracle).
    expect(new Webhook(secret).sign(SMS.messageId, now, req.body.toString("utf8"))).toBe(headers.signature);
  });

  it("accepts any 2xx and refuses a 4xx", async () => {
    const sender = createHttpSender(genericProtocol, { url: stand.url, secret, now: () => now }, OPTIONS);
    stand.answer({ status: 200, body: "ok" }, { status: 202 }, { status: 400, body: "no" });
    expect((await sender.send(SMS)).kind).toBe("accepted");
    expect((await sender.send(SMS)).kind).toBe("accepted");
    expect((await sender.send(SMS)).kind).toBe("refused");
  });
});

describe("answers every provider shares", () => {
  const sender = (url: string, timeoutMs = 5000) =>
    createHttpSender(telnyxProtocol, { apiKey: "k", baseUrl: url, webhookUrl: undefined }, { timeoutMs });

  it.each([500, 502, 503, 504, 429, 408])("HTTP %i is retryable", async (status) => {
    stand.answer({ status, body: "busy" });
    expect(await sender(stand.url).send(SMS)).toMatchObject({ kind: "retryable", status });
  });

  it.each([400, 401, 403, 404, 422])("HTTP %i (without a body we can read) is refused", async (status) => {
    stand.answer({ status, body: "<html>no</html>" });
    expect(await sender(stand.url).send(SMS)).toMatchObject({ kind: "refused", status });
  });

  it("a network error is retryable", async () => {
    const port = await closedPort();
    expect(await sender(`http://127.0.0.1:${port}`).send(SMS)).toMatchObject({ kind: "retryable", reason: expect.stringContaining("network error") });
  });

  it("a provider that never answers is cut off at the deadline, retryable", async () => {
    stand.answer("hang");
    expect(await sender(stand.url, 300).send(SMS)).toEqual({ kind: "retryable", reason: "timeout after 300 ms" });
  });

  it("a provider without its credentials refuses without sending", async () => {
    const before = stand.requests.length;
    const s = createHttpSender(telnyxProtocol, { apiKey: undefined, baseUrl: stand.url, webhookUrl: undefined }, OPTIONS);
    expect(s.isConfigured).toBe(false);
    expect(await s.send(SMS)).toEqual({ kind: "refused", reason: "not configured: TELNYX_API_KEY" });
    expect(stand.requests.length).toBe(before);
  });
});

describe("the sender registry", () => {
  it("has one sender per provider, configured from the environment, with delivery-report URLs", async () => {
    const token = "sinchTok_4Qw8Er2Ty6Ui0Op3As7Df1Gh5Jk9Lz";
    const config = loadConfig({
      HASH_KEY: "Jq3vX9mL2pR7tY4wK8nB5cF1hG6dS0aZ-senders",
      PUBLIC_BASE_URL: "https://otp.example.test",
      TELNYX_API_KEY: "KEY",
      TELNYX_API_BASE_URL: `${stand.url}/`,
      SINCH_WEBHOOK_TOKEN: token,
    });
    const registry = createSenderRegistry({ outbound: config.outbound, providers: config.providers, genericWebhookSecrets: [], publicBaseUrl: config.publicBaseUrl, now: () => new Date() });
    expect([...registry.keys()].sort()).toEqual(["bird", "generic", "infobip", "messagebird", "plivo", "sinch", "smsmode", "telnyx", "twilio", "vonage"]);
    expect([...registry.values()].filter((s) => s.isConfigured).map((s) => s.provider)).toEqual(["telnyx"]);
    stand.answer({ status: 200, body: { data: { id: "t" } } });
    expect(await registry.get("telnyx")!.send(SMS)).toMatchObject({ kind: "accepted", providerMessageId: "t" });
    expect(json(stand.last().body).webhook_url).toBe("https://otp.example.test/v1/delivery-reports/telnyx");
    expect(deliveryReportUrl(config.publicBaseUrl, "sinch", config.providers.sinchTokens)).toBe(`https://otp.example.test/v1/delivery-reports/sinch/${token}`);
    expect(deliveryReportUrl(config.publicBaseUrl, "infobip", [])).toBeUndefined();
  });
});
