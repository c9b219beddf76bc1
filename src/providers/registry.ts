// The provider adapters, by name, built from configuration. A provider without its secret is still
// registered: it refuses every delivery (nothing is accepted unchecked).
import type { ProviderSettings } from "../config.js";
import { createBirdAdapter } from "./bird.js";
import { createGenericAdapter } from "./generic.js";
import { createInfobipAdapter } from "./infobip.js";
import { createMessageBirdAdapter } from "./messagebird.js";
import { createPlivoAdapter } from "./plivo.js";
import type { ProviderAdapter } from "./provider.js";
import { createSinchAdapter } from "./sinch.js";
import { createSmsmodeAdapter } from "./smsmode.js";
import { createTelnyxAdapter } from "./telnyx.js";
import { createTwilioAdapter } from "./twilio.js";
import { createVonageAdapter } from "./vonage.js";

export const PROVIDER_NAMES = [
  "generic",
  "twilio",
  "vonage",
  "plivo",
  "telnyx",
  "bird",
  "messagebird",
  "smsmode",
  "sinch",
  "infobip",
] as const;

export type ProviderName = (typeof PROVIDER_NAMES)[number];

export function createProviderRegistry(
  settings: ProviderSettings & { genericWebhookSecrets: readonly string[] },
): ReadonlyMap<string, ProviderAdapter> {
  const adapters: ProviderAdapter[] = [
    createGenericAdapter(settings.genericWebhookSecrets),
    createTwilioAdapter({ authTokens: settings.twilioAuthTokens }),
    createVonageAdapter({ signatureSecrets: settings.vonageSignatureSecrets, signatureMethod: settings.vonageSignatureMethod }),
    createPlivoAdapter({ authTokens: settings.plivoAuthTokens, acceptV2: settings.plivoAcceptV2 }),
    createTelnyxAdapter({ publicKeys: settings.telnyxPublicKeys }),
    createBirdAdapter({ signingKeys: settings.birdSigningKeys }),
    createMessageBirdAdapter({ signingKeys: settings.messagebirdSigningKeys }),
    createSmsmodeAdapter({ tokens: settings.smsmodeTokens }),
    createSinchAdapter({ tokens: settings.sinchTokens }),
    createInfobipAdapter({ tokens: settings.infobipTokens }),
  ];
  return new Map(adapters.map((a) => [a.name, a]));
}
