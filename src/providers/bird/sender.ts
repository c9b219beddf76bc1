// Bird Channels API, "Send a message" on an SMS channel
// (https://docs.bird.com/api/channels-api/supported-channels/programmable-sms/sending-sms-messages):
//   POST {base}/workspaces/{workspaceId}/channels/{channelId}/messages, Authorization: AccessKey <key>
//   { receiver: { contacts: [ { identifierKey: "phonenumber", identifierValue: E.164 } ] },
//     body: { type: "text", text: { text } }, reference (our message id) }
// The sender is the channel: each SMS channel is installed on one number, so BIRD_SMS_CHANNELS maps
// every virtual number of ours to its channel id. Status events (`sms.outbound`) come through a
// webhook subscription signed like inbound messages.
// Answer: 202 with the message (`id`, `status: "accepted"`); errors `{ code, message }` with 4xx.
import { isClientRefusal, isRecord, joinUrl, parseJsonSafe, shortReason, type HttpRequest, type OutboundSms, type ProviderProtocol, type SendResult } from "../../outbound/sms-sender.js";

export type BirdSendSettings = {
  accessKey: string | undefined;
  workspaceId: string | undefined;
  /** E.164 of our number → the id of its SMS channel. */
  channels: ReadonlyMap<string, string>;
  baseUrl: string;
};

export function buildBirdRequest(s: BirdSendSettings, sms: OutboundSms): HttpRequest {
  const channelId = s.channels.get(sms.from);
  if (!channelId) throw new Error(`no Bird SMS channel is configured for ${sms.from} (BIRD_SMS_CHANNELS)`);
  return {
    method: "POST",
    url: joinUrl(s.baseUrl, `/workspaces/${encodeURIComponent(s.workspaceId ?? "")}/channels/${encodeURIComponent(channelId)}/messages`),
    headers: { authorization: `AccessKey ${s.accessKey ?? ""}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      receiver: { contacts: [{ identifierKey: "phonenumber", identifierValue: sms.to }] },
      body: { type: "text", text: { text: sms.text } },
      reference: sms.messageId,
    }),
  };
}

export function readBirdAnswer(status: number, body: string): SendResult | undefined {
  const json = parseJsonSafe(body);
  if (status >= 200 && status < 300) {
    return { kind: "accepted", status, providerMessageId: isRecord(json) && typeof json.id === "string" ? json.id : undefined };
  }
  if (isClientRefusal(status) && isRecord(json) && json.code !== undefined) {
    return { kind: "refused", status, errorCode: String(json.code), reason: shortReason(`Bird ${String(json.code)}: ${String(json.message ?? "")}`) };
  }
  return undefined;
}

export const birdProtocol: ProviderProtocol<BirdSendSettings> = {
  provider: "bird",
  missing: (s) =>
    !s.accessKey ? "BIRD_ACCESS_KEY" : !s.workspaceId ? "BIRD_WORKSPACE_ID" : s.channels.size === 0 ? "BIRD_SMS_CHANNELS" : undefined,
  build: buildBirdRequest,
  read: readBirdAnswer,
};
