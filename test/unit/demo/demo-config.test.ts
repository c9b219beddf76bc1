// DEMO_ENABLED and ADMIN_TOKEN in the configuration.
import { describe, expect, test } from "@jest/globals";
import { ConfigError, loadConfig } from "../../../src/config.js";

const PG = { DATABASE_URL: "postgresql://otp@db.example.test/otp", HASH_KEY: "k7Qw2Zp9Lm4Xr8Tn3Vb6Yc1Hd5Fg0Js2" };

describe("DEMO_ENABLED", () => {
  test("defaults to on in embedded mode and off with DATABASE_URL", () => {
    expect(loadConfig({}).demoEnabled).toBe(true);
    expect(loadConfig(PG).demoEnabled).toBe(false);
  });

  test("can be switched either way", () => {
    expect(loadConfig({ DEMO_ENABLED: "false" }).demoEnabled).toBe(false);
    expect(loadConfig({ ...PG, DEMO_ENABLED: "true" }).demoEnabled).toBe(true);
    expect(loadConfig({ DEMO_ENABLED: "" }).demoEnabled).toBe(true);
  });

  test("refuses anything but a boolean", () => {
    expect(() => loadConfig({ DEMO_ENABLED: "maybe" })).toThrow(ConfigError);
  });
});

describe("ADMIN_TOKEN", () => {
  test("is off when unset, and a comma-separated list of tokens when set", () => {
    expect(loadConfig({}).adminTokens).toEqual([]);
    expect(loadConfig({ ADMIN_TOKEN: "first-admin-token-0123456789, second-admin-token-0123456789" }).adminTokens).toEqual([
      "first-admin-token-0123456789",
      "second-admin-token-0123456789",
    ]);
  });

  test("refuses tokens of fewer than 128 bits", () => {
    expect(() => loadConfig({ ADMIN_TOKEN: "short" })).toThrow(/ADMIN_TOKEN/);
    expect(() => loadConfig({ ADMIN_TOKEN: "first-token-0123456789" })).toThrow(/ADMIN_TOKEN.*115 bits/);
  });
});
