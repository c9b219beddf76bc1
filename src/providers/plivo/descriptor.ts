import { z } from "zod";
import { createHttpSender } from "../../outbound/sms-sender.js";
import { booleanString, httpUrl, providerSecretList } from "../../shared/config-schemas.js";
import { randomSecret } from "../../shared/crypto.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createPlivoAdapter } from "./adapter.js";
import { parsePlivoReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { plivoProtocol } from "./sender.js";

export const plivo = defineProvider({
  name: "plivo",
  displayName: "Plivo",
  docs: "docs/providers/plivo.md",
  authentication: "`X-Plivo-Signature-V3`: HMAC-SHA256 over the URL, the nonce and the parameters (V2, without the body, only when allowed)",
  pathToken: "never",
  secretVariables: ["PLIVO_AUTH_TOKEN"],
  config: {
    inbound: {
      PLIVO_AUTH_TOKEN: {
        description: "Plivo auth token(s): the key of `X-Plivo-Signature-V3`",
        schema: providerSecretList("Auth Token of the Plivo console").optional(),
      },
      PLIVO_ACCEPT_V2: {
        description: "`true` also accepts Plivo's older V2 signatures, which do not cover the body (default `false`)",
        schema: booleanString.default(false),
      },
    },
    outbound: {
      PLIVO_AUTH_ID: { description: "Plivo auth ID: sending, with the first PLIVO_AUTH_TOKEN", schema: z.string().min(1).max(200).optional() },
      PLIVO_API_BASE_URL: { description: "Plivo API base URL (default `https://api.plivo.com`)", schema: httpUrl.default("https://api.plivo.com") },
    },
  },
  inbound: (p) => ({ plivoAuthTokens: p.PLIVO_AUTH_TOKEN ?? [], plivoAcceptV2: p.PLIVO_ACCEPT_V2 }),
  outbound: (p) => ({ plivo: { authId: p.PLIVO_AUTH_ID, baseUrl: p.PLIVO_API_BASE_URL } }),
  configured: (s) => s.plivoAuthTokens.length > 0,
  adapter: (s) => createPlivoAdapter({ authTokens: orUnknown(s.plivoAuthTokens, () => randomSecret()), acceptV2: s.plivoAcceptV2 }),
  sender: ({ inbound, outbound }, context) =>
    createHttpSender(
      plivoProtocol,
      { authId: outbound.plivo.authId, authToken: inbound.plivoAuthTokens[0], baseUrl: outbound.plivo.baseUrl, statusCallbackUrl: context.deliveryReportUrl() },
      context.options,
    ),
  parseDeliveryReport: parsePlivoReport,
  openapi,
});
