// loadConfig: the environment read once, validated, every bad value reported at once, frozen.
import path from "node:path";
import { describe, expect, it } from "@jest/globals";
import { ConfigError, loadConfig } from "../../src/config.js";

const HASH_KEY = "k7Qw2Zp9Lm4Xr8Tn3Vb6Yc1Hd5Fg0Js2"; // 32 characters
const HASH_KEY_2 = "second-hash-key-0123456789abcdefghij";
const WHSEC = `whsec_${Buffer.from("a generic webhook secret, 32 B!!").toString("base64")}`;
const WHSEC_2 = `whsec_${Buffer.from("another generic webhook secret!!").toString("base64")}`;
const PG_URL = "postgresql://app@db.example.test:5432/otp";

/** The ConfigError loadConfig throws for `env`, or a failure if it does not throw one. */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** The problem lines that name `key`. */
const problemsAbout = (error: ConfigError, key: string) => error.problems.filter((p) => p.startsWith(`${key}`));

describe("loadConfig defaults", () => {
  it("an empty environment gives embedded mode on 127.0.0.1:3000 with the documented defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      dataDir: path.resolve("./.data"),
      port: 3000,
      host: "127.0.0.1",
      publicBaseUrl: "http://127.0.0.1:3000",
      hashKeys: undefined,
      genericWebhookSecrets: undefined,
      logLevel: "info",
      trustProxy: false,
      db: { poolSize: 10, connectTimeoutMs: 2000, statementTimeoutMs: 3000 },
      defaults: { codeLength: 6, ttlSeconds: 300, maxAttempts: 5, lockoutSeconds: 900 },
    });
  });

  it("the public base URL follows HOST and PORT unless PUBLIC_BASE_URL is given, without a trailing slash", () => {
    expect(loadConfig({ HOST: "0.0.0.0", PORT: "8080" }).publicBaseUrl).toBe("http://0.0.0.0:8080");
    expect(loadConfig({ HOST: "::1", PORT: "8080" }).publicBaseUrl).toBe("http://[::1]:8080");
    expect(loadConfig({ PUBLIC_BASE_URL: "https://otp.example.com/" }).publicBaseUrl).toBe("https://otp.example.com");
  });

  it("numbers given as text are read as numbers", () => {
    const config = loadConfig({ PORT: "0", DB_POOL_SIZE: "3", CHALLENGE_CODE_LENGTH: "8", CHALLENGE_TTL_SECONDS: "600", CHALLENGE_MAX_ATTEMPTS: "1" });
    expect(config.port).toBe(0);
    expect(config.db.poolSize).toBe(3);
    expect(config.defaults).toMatchObject({ codeLength: 8, ttlSeconds: 600, maxAttempts: 1 });
  });

  it("DATA_DIR is made absolute", () => {
    expect(loadConfig({ DATA_DIR: "relative/dir" }).dataDir).toBe(path.resolve("relative/dir"));
  });
});

describe("loadConfig with PostgreSQL", () => {
  it("DATABASE_URL with HASH_KEY is accepted", () => {
    const config = loadConfig({ DATABASE_URL: PG_URL, HASH_KEY });
    expect(config.databaseUrl).toBe(PG_URL);
    expect(config.hashKeys).toEqual([HASH_KEY]);
  });

  it("DATABASE_URL without HASH_KEY is refused, naming HASH_KEY", () => {
    const error = configErrorOf({ DATABASE_URL: PG_URL });
    expect(problemsAbout(error, "HASH_KEY")).toHaveLength(1);
    expect(error.message).toMatch(/HASH_KEY.*required/);
  });

  it("DATABASE_URL with an empty HASH_KEY is refused like a missing one", () => {
    expect(problemsAbout(configErrorOf({ DATABASE_URL: PG_URL, HASH_KEY: "" }), "HASH_KEY").length).toBeGreaterThan(0);
    expect(problemsAbout(configErrorOf({ DATABASE_URL: PG_URL, HASH_KEY: " , " }), "HASH_KEY").length).toBeGreaterThan(0);
  });

  it.each(["mysql://db.example.test/otp", "not a url", "http://db.example.test"])("DATABASE_URL %j is refused", (url) => {
    expect(problemsAbout(configErrorOf({ DATABASE_URL: url, HASH_KEY }), "DATABASE_URL")).toHaveLength(1);
  });

  it("postgres:// and postgresql:// URLs are both accepted", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://u@h/db", HASH_KEY }).databaseUrl).toBe("postgres://u@h/db");
    expect(loadConfig({ DATABASE_URL: "postgresql://u@h/db", HASH_KEY }).databaseUrl).toBe("postgresql://u@h/db");
  });
});

describe("loadConfig secrets", () => {
  it.each([
    ["16 characters", "x".repeat(16)],
    ["31 characters", "x".repeat(31)],
    ["one short key among good ones", `${HASH_KEY},${"x".repeat(20)}`],
  ])("a HASH_KEY of %s is refused", (_what, value) => {
    const error = configErrorOf({ HASH_KEY: value });
    expect(problemsAbout(error, "HASH_KEY").length).toBeGreaterThan(0);
    expect(error.message).toMatch(/32/);
  });

  it("a HASH_KEY of exactly 32 characters is accepted", () => {
    expect(loadConfig({ HASH_KEY }).hashKeys).toEqual([HASH_KEY]);
  });

  it.each([
    ["without the whsec_ prefix", Buffer.from("a generic webhook secret, 32 B!!").toString("base64")],
    ["with another prefix", "sk_abcdefghijklmnopqrstuvwxyz012345"],
    ["one bad secret among good ones", `${WHSEC},plainsecretplainsecret`],
  ])("a GENERIC_WEBHOOK_SECRET %s is refused", (_what, value) => {
    const error = configErrorOf({ GENERIC_WEBHOOK_SECRET: value });
    expect(problemsAbout(error, "GENERIC_WEBHOOK_SECRET").length).toBeGreaterThan(0);
    expect(error.message).toContain("whsec_");
  });

  it("comma-separated lists are split, trimmed, and empty entries dropped (the first secret writes)", () => {
    const config = loadConfig({ HASH_KEY: ` ${HASH_KEY} ,${HASH_KEY_2},`, GENERIC_WEBHOOK_SECRET: `${WHSEC}, ${WHSEC_2}` });
    expect(config.hashKeys).toEqual([HASH_KEY, HASH_KEY_2]);
    expect(config.genericWebhookSecrets).toEqual([WHSEC, WHSEC_2]);
  });

  it("TRUST_PROXY reads false, true, a hop count, or a comma-separated list of addresses", () => {
    expect(loadConfig({ TRUST_PROXY: "false" }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 127.0.0.1" }).trustProxy).toEqual(["10.0.0.0/8", "127.0.0.1"]);
  });
});

describe("loadConfig reports every bad value at once", () => {
  it("several bad keys give one ConfigError that lists each of them", () => {
    const error = configErrorOf({
      PORT: "http",
      LOG_LEVEL: "loud",
      DATABASE_URL: "mysql://db/otp",
      GENERIC_WEBHOOK_SECRET: "not-whsec",
      CHALLENGE_CODE_LENGTH: "3",
      CHALLENGE_TTL_SECONDS: "601",
      DB_POOL_SIZE: "-1",
    });
    for (const key of ["PORT", "LOG_LEVEL", "DATABASE_URL", "GENERIC_WEBHOOK_SECRET", "CHALLENGE_CODE_LENGTH", "CHALLENGE_TTL_SECONDS", "DB_POOL_SIZE"]) {
      expect(problemsAbout(error, key)).toHaveLength(1);
      expect(error.message).toContain(key);
    }
  });

  it("a missing HASH_KEY is reported together with the other bad values, not after they are fixed", () => {
    const error = configErrorOf({ DATABASE_URL: PG_URL, PORT: "70000", LOG_LEVEL: "loud" });
    expect(problemsAbout(error, "PORT")).toHaveLength(1);
    expect(problemsAbout(error, "LOG_LEVEL")).toHaveLength(1);
    expect(problemsAbout(error, "HASH_KEY")).toHaveLength(1);
  });

  it("a short HASH_KEY is reported together with the other bad values", () => {
    const error = configErrorOf({ HASH_KEY: "x".repeat(20), PORT: "-5" });
    expect(problemsAbout(error, "PORT")).toHaveLength(1);
    expect(problemsAbout(error, "HASH_KEY").length).toBeGreaterThan(0);
  });

  it("the error message lists one problem per line", () => {
    const error = configErrorOf({ PORT: "x", LOG_LEVEL: "y" });
    expect(error.message.split("\n").filter((line) => line.startsWith("  - "))).toHaveLength(error.problems.length);
    expect(error.problems.length).toBe(2);
  });
});

describe("loadConfig treats empty strings as unset", () => {
  it("empty values take the defaults instead of failing", () => {
    const config = loadConfig({
      DATABASE_URL: "",
      DATA_DIR: "",
      PORT: "",
      HOST: "",
      PUBLIC_BASE_URL: "",
      HASH_KEY: "",
      GENERIC_WEBHOOK_SECRET: "",
      LOG_LEVEL: "",
      TRUST_PROXY: "",
      CHALLENGE_CODE_LENGTH: "",
    });
    expect(config).toMatchObject({
      databaseUrl: undefined,
      dataDir: path.resolve("./.data"),
      port: 3000,
      host: "127.0.0.1",
      publicBaseUrl: "http://127.0.0.1:3000",
      hashKeys: undefined,
      genericWebhookSecrets: undefined,
      logLevel: "info",
      trustProxy: false,
      defaults: expect.objectContaining({ codeLength: 6 }),
    });
  });

  it("unrelated variables are ignored", () => {
    expect(() => loadConfig({ HOME: "/root", PATH: "/usr/bin", SOMETHING_ELSE: "x" })).not.toThrow();
  });
});

describe("loadConfig result", () => {
  it("is frozen, down to its nested settings and secret lists", () => {
    const config = loadConfig({ HASH_KEY, GENERIC_WEBHOOK_SECRET: WHSEC });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.db)).toBe(true);
    expect(Object.isFrozen(config.defaults)).toBe(true);
    expect(Object.isFrozen(config.hashKeys)).toBe(true);
    expect(Object.isFrozen(config.genericWebhookSecrets)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.hashKeys as string[]).push("attacker-chosen-key-0123456789abcdef");
    }).toThrow(TypeError);
    expect(config.port).toBe(3000);
    expect(config.hashKeys).toEqual([HASH_KEY]);
  });

  it("does not keep a reference to the given environment", () => {
    const env: Record<string, string> = { PORT: "4000" };
    const config = loadConfig(env);
    env.PORT = "5000";
    expect(config.port).toBe(4000);
  });
});

describe("weak secrets are refused at start-up, with how to make a good one", () => {
  // The security review's examples: each of these started the service, and an empty key let
  // anyone sign inbound SMS.
  it.each(["whsec_", "whsec_YQ==", "whsec_changeme", `whsec_${Buffer.alloc(32).toString("base64")}`])(
    "GENERIC_WEBHOOK_SECRET=%s is refused, saying Standard Webhooks keys are 24 to 64 random bytes",
    (value) => {
      const error = configErrorOf({ GENERIC_WEBHOOK_SECRET: value });
      const [problem] = problemsAbout(error, "GENERIC_WEBHOOK_SECRET");
      expect(problem).toMatch(/bytes|Base64|repeated/);
      expect(problem).toContain("openssl rand -base64 32");
    },
  );

  const WEAK = ["changeme", "0123456789abcdef", "x".repeat(40), "secret-secret-secret"];
  const SECRET_VARIABLES: [string, RegExp][] = [
    ["HASH_KEY", /openssl rand/],
    ["TWILIO_AUTH_TOKEN", /Twilio Console/],
    ["VONAGE_SIGNATURE_SECRET", /Vonage dashboard/],
    ["PLIVO_AUTH_TOKEN", /Plivo console/],
    ["BIRD_SIGNING_KEY", /Bird/],
    ["MESSAGEBIRD_SIGNING_KEY", /MessageBird dashboard/],
    ["SMSMODE_WEBHOOK_TOKEN", /openssl rand -hex 32/],
    ["SINCH_WEBHOOK_TOKEN", /openssl rand -hex 32/],
    ["INFOBIP_WEBHOOK_TOKEN", /openssl rand -hex 32/],
    ["METRICS_TOKEN", /openssl rand -hex 32/],
    ["ADMIN_TOKEN", /openssl rand -hex 32/],
  ];

  it.each(SECRET_VARIABLES)("%s: every weak value is refused with advice, and the value itself is not repeated", (key, advice) => {
    for (const weak of WEAK) {
      const error = configErrorOf({ [key]: weak });
      const problems = problemsAbout(error, key);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(advice);
      expect(error.message).not.toContain(weak);
    }
  });

  it.each(SECRET_VARIABLES)("%s: one weak secret in a rotation list is named by its position", (key) => {
    const strong = "9f8e7d6c5b4a39281706f5e4d3c2b1a0a1b2c3d4e5f60718";
    const [problem] = problemsAbout(configErrorOf({ [key]: `${strong},changeme` }), key);
    expect(problem).toContain("secret 2 of 2");
    expect(loadConfig({ [key]: strong })).toBeDefined();
  });

  it("real-looking provider keys pass: a Twilio auth token (32 hex digits), a Plivo auth token (40 characters)", () => {
    expect(loadConfig({ TWILIO_AUTH_TOKEN: "7c2b9d0e4f1a3b5c6d7e8f9a0b1c2d3e" }).providers.twilioAuthTokens).toHaveLength(1);
    expect(loadConfig({ PLIVO_AUTH_TOKEN: "NzJiZjU0YjA0NDVkNGE1ZTk0ZjU1MTRmMmY2MjA5" }).providers.plivoAuthTokens).toHaveLength(1);
  });
});
