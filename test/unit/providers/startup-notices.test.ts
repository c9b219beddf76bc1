// What the server logs at start-up about the configured providers: Vonage's signing, which only
// Vonage support can enable (every unsigned SMS API delivery is refused on purpose), and a Sinch
// set-up that could use signatures.
import { describe, expect, it } from "@jest/globals";
import { loadConfig } from "../../../src/config.js";
import { providerStartupNotices } from "../../../src/providers/registry.js";

const notices = (env: Record<string, string>) => providerStartupNotices(loadConfig({ HASH_KEY: "Jq3vX9mL2pR7tY4wK8nB5cF1hG6dS0aZ", ...env }).providers);

describe("provider start-up notices", () => {
  it("say plainly that Vonage support must enable SMS API signing, whenever Vonage is configured", () => {
    const [notice, ...rest] = notices({ VONAGE_SIGNATURE_SECRET: "vonage-signature-secret-0123" });
    expect(rest).toEqual([]);
    expect(notice).toContain("Vonage signs them only after Vonage support has enabled signing on the account");
    expect(notice).toContain("every SMS API delivery is refused with 401");
  });

  it("suggest signed callbacks to a Sinch set-up with a path token only", () => {
    expect(notices({ SINCH_WEBHOOK_TOKEN: "sinchTok_4Qw8Er2Ty6Ui0Op3As7Df1Gh5Jk9Lz" })).toEqual([expect.stringContaining("SINCH_WEBHOOK_SECRET")]);
    expect(notices({ SINCH_WEBHOOK_TOKEN: "sinchTok_4Qw8Er2Ty6Ui0Op3As7Df1Gh5Jk9Lz", SINCH_WEBHOOK_SECRET: "sinch-signing-secret-7Hq2Lm9Xv4Rt" })).toEqual([]);
  });

  it("say nothing for providers that are not configured", () => {
    expect(notices({})).toEqual([]);
  });
});
