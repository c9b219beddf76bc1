import { z } from "zod";
import { createHttpSender } from "../../outbound/sms-sender.js";
import { httpUrl, providerSecretList } from "../../shared/config-schemas.js";
import { randomSecret } from "../../shared/crypto.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createMessageBirdAdapter } from "./adapter.js";
import { parseMessageBirdReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { messageBirdProtocol } from "./sender.js";

export const messagebird = defineProvider({
  name: "messagebird",
  displayName: "MessageBird",
  docs: "docs/providers/messagebird.md",
  authentication: "`MessageBird-Signature-JWT` (HS256, with the URL and the body's SHA-256), or the older `MessageBird-Signature` with `MessageBird-Request-Timestamp`",
  pathToken: "never",
  secretVariables: ["MESSAGEBIRD_SIGNING_KEY"],
  config: {
    inbound: {
      MESSAGEBIRD_SIGNING_KEY: {
        description: "MessageBird (legacy numbers) signing key(s): `MessageBird-Signature` and `MessageBird-Signature-JWT`",
        schema: providerSecretList("signing key of the MessageBird dashboard (Developers, API settings)").optional(),
      },
    },
    outbound: {
      MESSAGEBIRD_ACCESS_KEY: { description: "MessageBird (legacy) access key: sending with the SMS API", schema: z.string().min(1).max(500).optional() },
      MESSAGEBIRD_API_BASE_URL: { description: "MessageBird REST base URL (default `https://rest.messagebird.com`)", schema: httpUrl.default("https://rest.messagebird.com") },
    },
  },
  inbound: (p) => ({ messagebirdSigningKeys: p.MESSAGEBIRD_SIGNING_KEY ?? [] }),
  outbound: (p) => ({ messagebird: { accessKey: p.MESSAGEBIRD_ACCESS_KEY, baseUrl: p.MESSAGEBIRD_API_BASE_URL } }),
  configured: (s) => s.messagebirdSigningKeys.length > 0,
  adapter: (s) => createMessageBirdAdapter({ signingKeys: orUnknown(s.messagebirdSigningKeys, () => randomSecret()) }),
  sender: ({ outbound }, context) => createHttpSender(messageBirdProtocol, { ...outbound.messagebird, reportUrl: context.deliveryReportUrl() }, context.options),
  parseDeliveryReport: parseMessageBirdReport,
  openapi,
});
