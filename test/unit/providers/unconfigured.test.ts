// Providers that apps use without a secret: found from plain data, named with their variable.
import { describe, expect, test } from "@jest/globals";
import { CONFIG_KEYS, loadConfig } from "../../../src/config.js";
import { PROVIDER_NAMES } from "../../../src/providers/registry.js";
import { configuredProviders, describeUnconfigured, PROVIDER_SECRET_VARIABLE, unconfiguredProviders } from "../../../src/providers/unconfigured.js";

const app = (name: string, ...providers: string[]) => ({ name, numbers: providers.map((provider) => ({ provider })) });

describe("configuredProviders", () => {
  test("every provider is unconfigured in an empty environment, except generic with a generated secret", () => {
    const settings = loadConfig({}).providers;
    expect(configuredProviders(settings, [])).toEqual(Object.fromEntries(PROVIDER_NAMES.map((p) => [p, false])));
    expect(configuredProviders(settings, ["whsec_x"]).generic).toBe(true);
  });

  test("a provider's variable configures it", () => {
    const settings = loadConfig({ TWILIO_AUTH_TOKEN: "9f8e7d6c5b4a39281706f5e4d3c2b1a0", SINCH_WEBHOOK_TOKEN: "sinchTok_4Qw8Er2Ty6Ui0Op3As7Df1Gh5Jk9Lz" }).providers;
    const configured = configuredProviders(settings, []);
    expect(configured.twilio).toBe(true);
    expect(configured.sinch).toBe(true);
    expect(configured.vonage).toBe(false);
  });

  test("each provider's variable is a configuration key", () => {
    for (const name of PROVIDER_NAMES) for (const variable of PROVIDER_SECRET_VARIABLE[name].split(" or ")) expect(Object.keys(CONFIG_KEYS)).toContain(variable);
  });
});

describe("unconfiguredProviders", () => {
  const configured = { generic: false, twilio: true, vonage: false };

  test.each([
    ["no apps", [], []],
    ["apps on configured providers only", [app("A", "twilio")], []],
    [
      "one app on an unconfigured provider",
      [app("Acme", "generic")],
      [{ provider: "generic", variable: "GENERIC_WEBHOOK_SECRET", apps: ["Acme"] }],
    ],
    [
      "several apps and numbers, each app named once, sorted",
      [app("Zed", "vonage", "vonage"), app("Acme", "generic", "twilio"), app("Beta", "vonage")],
      [
        { provider: "vonage", variable: "VONAGE_SIGNATURE_SECRET", apps: ["Beta", "Zed"] },
        { provider: "generic", variable: "GENERIC_WEBHOOK_SECRET", apps: ["Acme"] },
      ],
    ],
    ["a provider this version does not know is not reported", [app("Old", "pigeon")], []],
  ])("%s", (_name, apps, expected) => {
    expect(unconfiguredProviders(apps, configured)).toEqual(expected);
  });

  test("the sentence names the variable, the apps, the route and how deliveries are answered", () => {
    expect(describeUnconfigured({ provider: "generic", variable: "GENERIC_WEBHOOK_SECRET", apps: ["Acme"] })).toBe(
      'GENERIC_WEBHOOK_SECRET is not set, but app "Acme" receives SMS through the generic provider: every delivery to /v1/inbound/generic is refused (as a forged request is) until it is set',
    );
  });
});
