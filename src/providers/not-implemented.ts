// TEMPORARY: stands in for an adapter that is being written; refuses every delivery.
import { AppError } from "../shared/errors.js";
import type { ProviderAdapter } from "./provider.js";

export function refusingAdapter(name: string, methods: ("GET" | "POST")[] = ["POST"], usesPathToken = false): ProviderAdapter {
  return {
    name,
    methods,
    usesPathToken,
    verify: () => ({ ok: false, code: "WEBHOOK_NOT_CONFIGURED", reason: `${name} is not implemented yet` }),
    parse: () => {
      throw new AppError("WEBHOOK_PAYLOAD_INVALID", `${name} is not implemented yet`);
    },
    acknowledge: () => ({ status: 200 }),
  };
}
