import { startStandIn } from "/work/wt/i13/test/support/outbound/stand-in.ts";
const s = await startStandIn({ status: 200, body: { ok: true } });
// Vonage
const { SMS } = await import("@vonage/sms");
try { await new SMS({ apiKey: "k", apiSecret: "sec" } as any, { restHost: s.url } as any).send({ to: "33612345678", from: "447400000100", text: "hi", clientRef: "ref", callback: "https://x/cb" } as any); } catch (e) { console.log("vonage err", (e as Error).message); }
console.log("VONAGE", s.last().method, s.last().path, s.last().headers["content-type"], s.last().headers.authorization, s.last().body.toString());
// Telnyx
const Telnyx = (await import("telnyx")).default;
const t = new Telnyx({ apiKey: "KEY", baseURL: s.url + "/v2" });
s.answer({ status: 200, body: { data: { id: "tx1" } } });
try { await (t as any).messages.send({ from: "+447400000100", to: "+33612345678", text: "hi", webhook_url: "https://x/cb" }); } catch (e) { console.log("telnyx err", (e as Error).message); }
console.log("TELNYX", s.last().method, s.last().path, s.last().headers.authorization, s.last().body.toString());
// Sinch
const { SmsService } = await import("@sinch/sms");
const sinch = new SmsService({ servicePlanId: "plan", apiToken: "tok", smsHostname: s.url } as any);
s.answer({ status: 201, body: { id: "b1" } });
try { await (sinch as any).batches.send({ sendSMSRequestBody: { from: "+447400000100", to: ["+33612345678"], body: "hi", type: "mt_text", delivery_report: "per_recipient", callback_url: "https://x/cb", client_reference: "ref" } }); } catch (e) { console.log("sinch err", (e as Error).message); }
console.log("SINCH", s.last().method, s.last().path, s.last().headers.authorization, s.last().body.toString());
// Infobip
const { Infobip, AuthType } = await import("@infobip-api/sdk");
const ib = new Infobip({ baseUrl: s.url, apiKey: "key", authType: AuthType.ApiKey });
s.answer({ status: 200, body: { messages: [] } });
try { await ib.channels.sms.send({ messages: [{ from: "447400000100", destinations: [{ to: "33612345678", messageId: "ref" }], text: "hi", notifyUrl: "https://x/cb", notifyContentType: "application/json" }] } as any); } catch (e) { console.log("infobip err", (e as Error).message); }
console.log("INFOBIP", s.last().method, s.last().path, s.last().headers.authorization, s.last().body.toString());
// Twilio
const twilio = (await import("twilio")).default;
let cap: any;
const tw = twilio("AC" + "0".repeat(32), "token", { httpClient: { request: async (o: any) => { cap = o; return { statusCode: 201, body: JSON.stringify({ sid: "SM1" }), headers: {} }; } } as any });
const m = await tw.messages.create({ to: "+33612345678", from: "+447400000100", body: "hi", statusCallback: "https://x/cb" });
console.log("TWILIO", m.sid, cap.method, cap.uri, cap.username, cap.password, JSON.stringify(cap.data), JSON.stringify(cap.headers));
await s.close();
