import { z } from "zod";
import { createHttpSender } from "../../outbound/sms-sender.js";
import { httpUrl, providerSecretList } from "../../shared/config-schemas.js";
import { randomSecret } from "../../shared/crypto.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createBirdAdapter } from "./adapter.js";
import { parseBirdReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { birdProtocol } from "./sender.js";

export const bird = defineProvider({
  name: "bird",
  displayName: "Bird",
  docs: "docs/providers/bird.md",
  authentication: "`X-Bird-Signature`: HMAC-SHA256 over `X-Bird-Timestamp`, the URL and the body's SHA-256",
  pathToken: "never",
  secretVariables: ["BIRD_SIGNING_KEY"],
  config: {
    inbound: {
      BIRD_SIGNING_KEY: {
        description: "Bird (Channels API) webhook signing key(s)",
        schema: providerSecretList("signing key Bird gives for the webhook subscription").optional(),
      },
    },
    outbound: {
      BIRD_ACCESS_KEY: { description: "Bird access key: sending with the Channels API", schema: z.string().min(1).max(500).optional() },
      BIRD_WORKSPACE_ID: { description: "Bird workspace ID of the SMS channels", schema: z.string().min(1).max(200).optional() },
      BIRD_SMS_CHANNELS: {
        description: "Bird SMS channel of each virtual number, comma-separated `+E164=channelId` pairs (the channel is the sender)",
        schema: z
          .string()
          .transform((value) => value.split(",").map((s) => s.trim()).filter((s) => s.length > 0))
          .pipe(z.array(z.string().regex(/^\+[1-9]\d{6,14}=[A-Za-z0-9-]{1,100}$/, { message: "each entry must be +E164=channelId" })).min(1))
          .optional(),
      },
      BIRD_API_BASE_URL: { description: "Bird API base URL (default `https://api.bird.com`)", schema: httpUrl.default("https://api.bird.com") },
    },
  },
  inbound: (p) => ({ birdSigningKeys: p.BIRD_SIGNING_KEY ?? [] }),
  outbound: (p) => ({
    bird: {
      accessKey: p.BIRD_ACCESS_KEY,
      workspaceId: p.BIRD_WORKSPACE_ID,
      channels: new Map((p.BIRD_SMS_CHANNELS ?? []).map((entry) => entry.split("=") as [string, string])) as ReadonlyMap<string, string>,
      baseUrl: p.BIRD_API_BASE_URL,
    },
  }),
  configured: (s) => s.birdSigningKeys.length > 0,
  adapter: (s) => createBirdAdapter({ signingKeys: orUnknown(s.birdSigningKeys, () => randomSecret()) }),
  // Bird sends status events through a webhook subscription (set up once, see docs/sending.md).
  sender: ({ outbound }, context) => createHttpSender(birdProtocol, outbound.bird, context.options),
  parseDeliveryReport: parseBirdReport,
  openapi,
});
