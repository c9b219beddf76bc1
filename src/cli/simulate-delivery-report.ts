// `simulate-delivery-report`: a correctly signed generic-provider delivery report to a running
// service, as the SMS gateway would send it for a code we sent (`{ messageId, status }`).
import { parseCommand, UsageError, type CliContext } from "./context.js";
import { postSignedGeneric } from "./simulate-sms.js";

/** Exits with 1 when the service answers with an error. */
export async function simulateDeliveryReportCommand(ctx: CliContext, args: string[]): Promise<number> {
  const command = "simulate-delivery-report";
  const { values } = parseCommand(command, args, {
    "message-id": { type: "string" },
    status: { type: "string" },
    url: { type: "string" },
  });
  if (!values["message-id"]) throw new UsageError("simulate-delivery-report needs --message-id (the msg_… id the gateway received)", command);
  const status = values.status ?? "delivered";
  if (status !== "delivered" && status !== "failed") throw new UsageError("--status must be delivered or failed", command);
  const body = JSON.stringify({ messageId: values["message-id"], status });
  const response = await postSignedGeneric(ctx, command, values.url, "/v1/delivery-reports/generic", body);
  ctx.stdout(`${response.status} ${await response.text()}\n`);
  return response.ok ? 0 : 1;
}
