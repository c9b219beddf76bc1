// The SMS senders by provider name, built from configuration: one sender per provider, sending as
// the app's virtual number through that number's provider. A provider without its sending
// credentials is still registered; it refuses every message (isConfigured is false), so a
// misconfiguration shows as refused deliveries, never as silence.
import type { OutboundSettings, ProviderSettings } from "../config.js";
import type { ProviderName } from "../providers/registry.js";
import { birdProtocol } from "../providers/bird/sender.js";
import { genericProtocol } from "../providers/generic/sender.js";
import { infobipProtocol } from "../providers/infobip/sender.js";
import { messageBirdProtocol } from "../providers/messagebird/sender.js";
import { plivoProtocol } from "../providers/plivo/sender.js";
import { sinchProtocol } from "../providers/sinch/sender.js";
import { smsmodeProtocol } from "../providers/smsmode/sender.js";
import { telnyxProtocol } from "../providers/telnyx/sender.js";
import { twilioProtocol } from "../providers/twilio/sender.js";
import { vonageProtocol } from "../providers/vonage/sender.js";
import { createHttpSender, type FetchLike, type SmsSender } from "./sms-sender.js";

export type SenderRegistry = ReadonlyMap<ProviderName, SmsSender>;

export type SenderRegistryDeps = {
  outbound: OutboundSettings;
  /** The inbound secrets: Twilio and Plivo send with their auth token; path tokens build DR URLs. */
  providers: ProviderSettings;
  genericWebhookSecrets: readonly string[];
  publicBaseUrl: string;
  now: () => Date;
  fetch?: FetchLike;
};

/**
 * Where a provider posts delivery reports of the messages we send: `/v1/delivery-reports/<provider>`,
 * with the provider's path token for providers that sign nothing (Sinch, Infobip, smsmode), or
 * undefined when such a provider has no token (its reports could not be checked, so none is asked for).
 */
export function deliveryReportUrl(publicBaseUrl: string, provider: ProviderName, pathTokens: readonly string[] = []): string | undefined {
  const base = `${publicBaseUrl.replace(/\/+$/, "")}/v1/delivery-reports/${provider}`;
  if (provider === "sinch" || provider === "infobip" || provider === "smsmode") {
    const token = pathTokens[0];
    return token ? `${base}/${token}` : undefined;
  }
  return base;
}

export function createSenderRegistry(deps: SenderRegistryDeps): SenderRegistry {
  const o = deps.outbound;
  const p = deps.providers;
  const dr = (provider: ProviderName, tokens?: readonly string[]) => deliveryReportUrl(deps.publicBaseUrl, provider, tokens);
  const options = { timeoutMs: o.timeoutMs, ...(deps.fetch ? { fetch: deps.fetch } : {}) };
  const senders: SmsSender[] = [
    createHttpSender(genericProtocol, { url: o.genericUrl, secret: deps.genericWebhookSecrets[0], now: deps.now }, options),
    createHttpSender(twilioProtocol, { accountSid: o.twilio.accountSid, authToken: p.twilioAuthTokens[0], baseUrl: o.twilio.baseUrl, statusCallbackUrl: dr("twilio") }, options),
    createHttpSender(vonageProtocol, { ...o.vonage, deliveryReceiptUrl: dr("vonage") }, options),
    createHttpSender(plivoProtocol, { authId: o.plivo.authId, authToken: p.plivoAuthTokens[0], baseUrl: o.plivo.baseUrl, statusCallbackUrl: dr("plivo") }, options),
    createHttpSender(telnyxProtocol, { ...o.telnyx, webhookUrl: dr("telnyx") }, options),
    createHttpSender(sinchProtocol, { ...o.sinch, callbackUrl: dr("sinch", p.sinchTokens) }, options),
    createHttpSender(infobipProtocol, { ...o.infobip, notifyUrl: dr("infobip", p.infobipTokens) }, options),
    createHttpSender(smsmodeProtocol, { ...o.smsmode, notificationUrl: dr("smsmode", p.smsmodeTokens) }, options),
    // Bird sends status events through a webhook subscription (set up once, see docs/sending.md).
    createHttpSender(birdProtocol, o.bird, options),
    createHttpSender(messageBirdProtocol, { ...o.messagebird, reportUrl: dr("messagebird") }, options),
  ];
  return new Map(senders.map((s) => [s.provider, s]));
}
