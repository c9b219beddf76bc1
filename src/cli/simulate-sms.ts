// `simulate-sms`: a correctly signed generic-provider webhook to a running service.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config.js";
import { signStandardWebhook } from "../providers/standard-webhooks.js";
import { randomId } from "../shared/crypto.js";
import { parseCommand, UsageError, type CliContext } from "./context.js";

/** The generic provider's secret: configured, or the one embedded mode generated in DATA_DIR. */
function genericSecret(config: Config): string | undefined {
  if (config.genericWebhookSecrets?.[0]) return config.genericWebhookSecrets[0];
  try {
    const secrets = JSON.parse(readFileSync(path.join(config.dataDir, "secrets.json"), "utf8")) as { genericWebhookSecret?: string };
    return secrets.genericWebhookSecret;
  } catch {
    return undefined;
  }
}

/** Exits with 1 when the service answers with an error. */
export async function simulateSmsCommand(ctx: CliContext, args: string[]): Promise<number> {
  const command = "simulate-sms";
  const { values } = parseCommand(command, args, {
    from: { type: "string" },
    to: { type: "string" },
    text: { type: "string" },
    url: { type: "string" },
    "message-id": { type: "string" },
  });
  if (!values.from || !values.to || values.text === undefined) throw new UsageError("simulate-sms needs --from, --to and --text", command);
  const config = ctx.config();
  const secret = genericSecret(config);
  if (!secret) throw new UsageError("No generic webhook secret: set GENERIC_WEBHOOK_SECRET, or start the service once in embedded mode", command);
  const base = (values.url ?? config.publicBaseUrl).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/.test(base)) throw new UsageError("--url must be an http(s) URL such as http://127.0.0.1:3000", command);
  const body = JSON.stringify({ messageId: values["message-id"] ?? randomId("sim"), from: values.from, to: values.to, text: values.text });
  const id = randomId("msg");
  const timestamp = Math.floor(ctx.clock.now().getTime() / 1000);
  let response: Response;
  try {
    response = await ctx.fetch(`${base}/v1/inbound/generic`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signStandardWebhook(secret, id, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new Error(`Could not reach the service at ${base}: ${(error as Error).message}. Is it running?`);
  }
  ctx.stdout(`${response.status} ${await response.text()}\n`);
  return response.ok ? 0 : 1;
}
