import { z } from "zod";
import { createHttpSender } from "../../outbound/sms-sender.js";
import { httpUrl, splitList } from "../../shared/config-schemas.js";
import { randomEd25519PublicKey } from "../../shared/crypto.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createTelnyxAdapter } from "./adapter.js";
import { parseTelnyxReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { telnyxProtocol } from "./sender.js";

export const telnyx = defineProvider({
  name: "telnyx",
  displayName: "Telnyx",
  docs: "docs/providers/telnyx.md",
  authentication: "`telnyx-signature-ed25519` over `telnyx-timestamp` and the body (Ed25519 public key)",
  pathToken: "never",
  secretVariables: ["TELNYX_PUBLIC_KEY"],
  config: {
    inbound: {
      TELNYX_PUBLIC_KEY: {
        description: "Telnyx Ed25519 public key(s), Base64, from the Mission Control portal",
        schema: z
          .string()
          .transform(splitList)
          .pipe(z.array(z.string().regex(/^[A-Za-z0-9+/]{42,43}=?$/, { message: "must be a Base64 Ed25519 public key (32 bytes)" })).min(1))
          .optional(),
      },
    },
    outbound: {
      TELNYX_API_KEY: { description: "Telnyx API key (V2): sending with the Messaging API", schema: z.string().min(1).max(500).optional() },
      TELNYX_API_BASE_URL: { description: "Telnyx API base URL (default `https://api.telnyx.com`)", schema: httpUrl.default("https://api.telnyx.com") },
    },
  },
  inbound: (p) => ({ telnyxPublicKeys: p.TELNYX_PUBLIC_KEY ?? [] }),
  outbound: (p) => ({ telnyx: { apiKey: p.TELNYX_API_KEY, baseUrl: p.TELNYX_API_BASE_URL } }),
  configured: (s) => s.telnyxPublicKeys.length > 0,
  adapter: (s) => createTelnyxAdapter({ publicKeys: orUnknown(s.telnyxPublicKeys, randomEd25519PublicKey) }),
  sender: ({ outbound }, context) => createHttpSender(telnyxProtocol, { ...outbound.telnyx, webhookUrl: context.deliveryReportUrl() }, context.options),
  parseDeliveryReport: parseTelnyxReport,
  openapi,
});
