import { z } from "zod";
import { createHttpSender } from "../../outbound/sms-sender.js";
import { httpUrl, providerSecretList } from "../../shared/config-schemas.js";
import { randomSecret } from "../../shared/crypto.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createVonageAdapter } from "./adapter.js";
import { parseVonageReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { vonageProtocol } from "./sender.js";

export const vonage = defineProvider({
  name: "vonage",
  displayName: "Vonage",
  docs: "docs/providers/vonage.md",
  authentication: "SMS API: the `sig` parameter (signed webhooks, enabled by Vonage support); Messages API: a HS256 JWT in `Authorization` with the body's SHA-256",
  pathToken: "never",
  secretVariables: ["VONAGE_SIGNATURE_SECRET"],
  config: {
    inbound: {
      VONAGE_SIGNATURE_SECRET: {
        description: "Vonage signature secret(s): signed SMS API webhooks, and the HS256 key of Messages API JWTs",
        schema: providerSecretList("signature secret of the Vonage dashboard (API settings)").optional(),
      },
      VONAGE_SIGNATURE_METHOD: {
        description: "Vonage SMS API signature method: `md5hash`, `md5`, `sha1`, `sha256` (default) or `sha512`",
        schema: z.enum(["md5hash", "md5", "sha1", "sha256", "sha512"]).default("sha256"),
      },
    },
    outbound: {
      VONAGE_API_KEY: { description: "Vonage API key: sending with the SMS API", schema: z.string().min(1).max(200).optional() },
      VONAGE_API_SECRET: { description: "Vonage API secret: sending with the SMS API", schema: z.string().min(1).max(200).optional() },
      VONAGE_API_BASE_URL: { description: "Vonage SMS API base URL (default `https://rest.nexmo.com`)", schema: httpUrl.default("https://rest.nexmo.com") },
    },
  },
  inbound: (p) => ({ vonageSignatureSecrets: p.VONAGE_SIGNATURE_SECRET ?? [], vonageSignatureMethod: p.VONAGE_SIGNATURE_METHOD }),
  outbound: (p) => ({ vonage: { apiKey: p.VONAGE_API_KEY, apiSecret: p.VONAGE_API_SECRET, baseUrl: p.VONAGE_API_BASE_URL } }),
  configured: (s) => s.vonageSignatureSecrets.length > 0,
  adapter: (s) =>
    createVonageAdapter({ signatureSecrets: orUnknown(s.vonageSignatureSecrets, () => randomSecret()), signatureMethod: s.vonageSignatureMethod }),
  sender: ({ outbound }, context) => createHttpSender(vonageProtocol, { ...outbound.vonage, deliveryReceiptUrl: context.deliveryReportUrl() }, context.options),
  startupNotice: (s) =>
    s.vonageSignatureSecrets.length > 0
      ? "vonage: SMS API webhooks are accepted only when signed, and Vonage signs them only after Vonage support has enabled signing on the account " +
        "(https://developer.vonage.com/en/getting-started/concepts/signing-messages): until then every SMS API delivery is refused with 401. " +
        "Messages API webhooks are always signed (JWT)."
      : undefined,
  parseDeliveryReport: parseVonageReport,
  openapi,
});
