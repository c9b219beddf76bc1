// The command line, in-process: each command runs through runCli() with the harness's runtime and
// captured stdout/stderr, so it is checked against the real database without a process start.
// Two real processes at the end prove that the entry point wires the same thing.
import { spawn } from "node:child_process";
import http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { CliContext } from "../../src/cli/context.js";
import { HELP } from "../../src/cli/help.js";
import { runCli } from "../../src/cli/run.js";
import { CONFIG_KEYS, loadConfig } from "../../src/config.js";
import { createSealer } from "../../src/shared/crypto.js";
import { PHONES, startHarness, TEST_GENERIC_SECRET, TEST_HASH_KEY, type Harness } from "../support/harness.js";

const STACK_TRACE = /^\s+at .+[:(]/m;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

type Ran = { code: number; stdout: string; stderr: string; runtimeOpened: boolean };

/** Runs one command line in-process on `harness` (default: the file's), as the entry point would. */
async function cli(args: string[], options: { harness?: Harness; tty?: boolean; config?: CliContext["config"] } = {}): Promise<Ran> {
  const harness = options.harness ?? h;
  const out = { stdout: "", stderr: "", runtimeOpened: false };
  const ctx: CliContext = {
    stdout: (text) => void (out.stdout += text),
    stderr: (text) => void (out.stderr += text),
    isStderrTty: options.tty ?? false,
    config: options.config ?? (() => harness.config),
    withRuntime: async (fn) => {
      out.runtimeOpened = true;
      return fn(harness.runtime);
    },
    clock: harness.clock,
    fetch: (input, init) => fetch(input, init),
  };
  const code = await runCli(args, ctx);
  return { code, ...out };
}

/** A successful --json command's answer. */
async function json<T = Record<string, unknown>>(args: string[], options?: Parameters<typeof cli>[1]): Promise<T> {
  const ran = await cli([...args, "--json"], options);
  if (ran.code !== 0) throw new Error(`exit ${ran.code}: ${ran.stderr}`);
  return JSON.parse(ran.stdout) as T;
}

let numberCounter = 0;
/** Virtual numbers of this file (+44 7400 003xxx), apart from the harness's. */
const nextNumber = () => `+447400003${String(100 + numberCounter++).padStart(3, "0")}`;

type PublicApp = {
  id: string;
  numbers: { number: string; provider: string; country?: string; channel?: string }[];
  codeLength: number;
  codeAlphabet: string;
  codeTtlSeconds: number;
  maxAttempts: number;
  lowAssurance: boolean;
  lockoutSeconds: number;
  allowedCountries: string[];
  defaultLocale: string;
  channels: string[];
  outboundCountries: string[];
  rateLimits: { phonePerHour: number | null; publishableKeyPerMinute: number | null; secretKeyPerMinute: number | null };
  callbackUrl: string | null;
};
type Created = { app: { id: string; name: string }; secretKey: string; publishableKey: string; callbackSecret?: string };

async function createApp(extra: string[] = []) {
  const number = nextNumber();
  const created = await json<Created>(["apps", "create", "--name", "Cli Co", "--number", number, ...extra]);
  return { ...created, id: created.app.id, number };
}

const show = async (id: string) => (await json<{ app: PublicApp }>(["apps", "show", id])).app;

/** The app's callback secret as stored, opened (it is sealed at rest, never kept in clear). */
async function callbackSecretOf(id: string): Promise<string | null> {
  const [row] = await h.db.query<{ callback_secret: string | null }>(`SELECT callback_secret FROM apps WHERE id = $1`, [id]);
  const stored = row!.callback_secret;
  if (stored === null) return null;
  expect(stored).not.toMatch(/^whsec_/);
  return createSealer([TEST_HASH_KEY], "callback-secret").open(stored);
}

describe("help", () => {
  const commands = Object.keys(HELP).filter((k) => k !== "");

  test.each(commands)("`%s --help` prints that command's own help and exits 0, without opening the database", async (command) => {
    for (const args of [[...command.split(" "), "--help"], [...command.split(" "), "-h"], ["help", ...command.split(" ")]]) {
      const ran = await cli(args);
      expect(ran).toMatchObject({ code: 0, stderr: "", runtimeOpened: false });
      expect(ran.stdout).toBe(HELP[command]);
    }
    expect(HELP[command]).toContain(`Usage: npm run --silent cli -- ${command}`);
  });

  test("every help text is its own, and the overview names every command", async () => {
    expect(new Set(Object.values(HELP)).size).toBe(Object.keys(HELP).length);
    for (const args of [[], ["help"], ["--help"], ["-h"]]) {
      const ran = await cli(args);
      expect(ran).toMatchObject({ code: 0, stderr: "" });
      expect(ran.stdout).toBe(HELP[""]);
    }
    for (const command of commands.filter((c) => c !== "apps")) expect(HELP[""]).toContain(`  ${command} `);
  });

  test("--help wins over missing or bad options, and over a bad environment", async () => {
    const ran = await cli(["apps", "set-policy", "--colour", "blue", "--help"], {
      config: () => loadConfig({ DATABASE_URL: "not a url" }),
    });
    expect(ran).toMatchObject({ code: 0, stdout: HELP["apps set-policy"], runtimeOpened: false });
    expect(HELP["apps set-policy"]).toContain("--no-low-assurance");
    expect(HELP["apps create"]).not.toContain("--no-low-assurance");
  });

  test("help for a command that does not exist is a usage error", async () => {
    for (const args of [["help", "frobnicate"], ["apps", "frobnicate", "--help"], ["frobnicate", "--help"]]) {
      const ran = await cli(args);
      expect(ran.code).toBe(2);
      expect(ran.stderr).toMatch(/^Error: Unknown (apps )?command "frobnicate"/);
    }
  });
});

describe("usage errors", () => {
  test.each([
    [["frobnicate"], 'Unknown command "frobnicate"', "help"],
    [["apps"], "apps needs a command: create, list, show, rotate-key, set-policy, set-callback, add-number, remove-number", "apps --help"],
    [["apps", "frobnicate"], 'Unknown apps command "frobnicate"', "apps --help"],
    [["apps", "create", "--name", "X", "--number", "+447400003999", "--colour", "blue"], 'Unknown option --colour for "apps create"', "apps create --help"],
    [["apps", "list", "extra"], 'Unexpected argument "extra" for "apps list"', "apps list --help"],
    [["apps", "show"], "apps show needs <app-id>", "apps show --help"],
    [["apps", "set-policy", "app_x"], "apps set-policy needs at least one setting to change", "apps set-policy --help"],
    [["apps", "set-policy", "app_x", "--code-length", "six"], "--code-length must be a whole number", "apps set-policy --help"],
    [["apps", "set-policy", "app_x", "--code-alphabet", "emoji"], "--code-alphabet must be numeric or alphanumeric", "apps set-policy --help"],
    [["apps", "set-policy", "app_x", "--low-assurance", "--no-low-assurance"], "contradict each other", "apps set-policy --help"],
    [["apps", "set-policy", "app_x", "--ttl-seconds"], "argument missing", "apps set-policy --help"],
    [["apps", "set-callback", "app_x"], "needs either --url <https URL> or --remove", "apps set-callback --help"],
    [["apps", "set-callback", "app_x", "--url", "https://a.example.com", "--remove"], "needs either --url <https URL> or --remove", "apps set-callback --help"],
    [["apps", "set-callback", "app_x", "--remove", "--keep-secret"], "--keep-secret goes with --url", "apps set-callback --help"],
    [["apps", "add-number", "app_x"], "apps add-number needs --number <E.164 or short code>", "apps add-number --help"],
    [["apps", "rotate-key", "app_x", "--kind", "master"], "--kind must be secret or publishable", "apps rotate-key --help"],
    [["purge", "--batch-size", "0"], "--batch-size must be from 1 to 100000", "purge --help"],
    [["purge", "now"], 'Unexpected argument "now" for "purge"', "purge --help"],
    [["migrate", "--force"], 'Unknown option --force for "migrate"', "migrate --help"],
    [["simulate-sms", "--from", "+33612345678"], "simulate-sms needs --from, --to and --text", "simulate-sms --help"],
    [["simulate-sms", "--from", "0612", "--to", "+447400000100", "--text", "x"], '--from must be an international number in E.164 form, such as +33612345678 (got "0612")', "simulate-sms --help"],
    [["simulate-sms", "--from", "+33612345678", "--to", "07400 000100", "--text", "x"], "--to must be an international number in E.164 form", "simulate-sms --help"],
  ])("%j: exit 2, one clear message and where to find help, no stack trace, nothing done", async (args, message, help) => {
    const ran = await cli(args);
    expect(ran.code).toBe(2);
    expect(ran.stdout).toBe("");
    expect(ran.stderr).toMatch(/^Error: /);
    expect(ran.stderr.split("\n")[0]).toContain(message);
    expect(ran.stderr).toContain(`Run "npm run --silent cli -- ${help}" for usage.`);
    expect(ran.stderr).not.toMatch(STACK_TRACE);
    expect(ran.runtimeOpened).toBe(false);
  });
});

describe("apps create, list and show", () => {
  test("an app on a provider without its secret is created, with a warning naming the variable on stderr", async () => {
    const ran = await cli(["apps", "create", "--name", "Pigeon post", "--number", nextNumber(), "--provider", "telnyx", "--json"]);
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ app: { name: "Pigeon post" } });
    expect(ran.stderr).toBe(
      'Warning: TELNYX_PUBLIC_KEY is not set, but app "Pigeon post" receives SMS through the telnyx provider: every delivery to /v1/inbound/telnyx is refused (as a forged request is) until it is set.\n',
    );
    // The generic provider has its secret in this harness: no warning.
    expect((await cli(["apps", "create", "--name", "Fine", "--number", nextNumber(), "--json"])).stderr).toBe("");
  });

  test("list and show include the lock-out and rate limits (null: the service default) and never a key", async () => {
    const created = await createApp(["--lockout-seconds", "120", "--rate-limit-phone-per-hour", "7", "--locale", "fr-FR"]);
    const app = await show(created.id);
    expect(app).toMatchObject({
      numbers: [{ number: created.number, provider: "generic" }],
      lockoutSeconds: 120,
      defaultLocale: "fr",
      rateLimits: { phonePerHour: 7, publishableKeyPerMinute: null, secretKeyPerMinute: null },
      callbackUrl: null,
    });
    const listed = await cli(["apps", "list", "--json"]);
    expect(JSON.parse(listed.stdout).apps).toEqual(expect.arrayContaining([expect.objectContaining({ id: created.id })]));
    expect(listed.stdout).not.toContain(created.secretKey);
    const text = await cli(["apps", "show", created.id]);
    expect(text.stdout).toContain("lock-out 120 s");
    expect(text.stdout).toContain("rate limits: 7/phone/hour");
  });

  test("an unknown locale is refused, like any invalid setting, with exit 1 and the field", async () => {
    const ran = await cli(["apps", "create", "--name", "X", "--number", nextNumber(), "--locale", "xx"]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe("Error: The app settings are not valid\n  - --locale: must be one of en, de, fr\n");
  });
});

describe("apps set-policy", () => {
  test("changes only the given settings; new challenges follow them (code, lifetime, attempts, locale, countries)", async () => {
    const created = await createApp(["--allowed-countries", "FR,DE"]);
    const ran = await cli([
      "apps", "set-policy", created.id,
      "--code-length", "8", "--code-alphabet", "alphanumeric", "--ttl-seconds", "120", "--max-attempts", "3",
      "--lockout-seconds", "600", "--locale", "de", "--rate-limit-secret-key-per-minute", "500", "--json",
    ]);
    expect(ran).toMatchObject({ code: 0, stderr: "" });
    const changed = JSON.parse(ran.stdout).app as PublicApp;
    expect(changed).toMatchObject({
      codeLength: 8,
      codeAlphabet: "alphanumeric",
      codeTtlSeconds: 120,
      maxAttempts: 3,
      lockoutSeconds: 600,
      defaultLocale: "de",
      allowedCountries: ["FR", "DE"], // untouched
      lowAssurance: false,
      rateLimits: { phonePerHour: null, publishableKeyPerMinute: null, secretKeyPerMinute: 500 },
    });
    expect(await show(created.id)).toEqual(changed);

    const res = await h.createChallenge(created.secretKey, { phone: PHONES.fr, purpose: "login" });
    expect(res.status).toBe(201);
    expect(res.body.code).toMatch(/^[A-Z2-9]{8}$/);
    expect(res.body.attemptsRemaining).toBe(3);
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(110_000);
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeLessThanOrEqual(120_000);
    expect(res.body.smsBody).toContain("zur Anmeldung");

    // Countries: only DE now, then any again.
    expect((await cli(["apps", "set-policy", created.id, "--allowed-countries", "de"])).code).toBe(0);
    expect((await h.createChallenge(created.secretKey, { phone: PHONES.fr2, purpose: "login" })).body.code).toBe("COUNTRY_NOT_ALLOWED");
    expect((await cli(["apps", "set-policy", created.id, "--allowed-countries", "any", "--rate-limit-secret-key-per-minute", "default"])).code).toBe(0);
    expect(await show(created.id)).toMatchObject({ allowedCountries: [], rateLimits: { secretKeyPerMinute: null } });
    expect((await h.createChallenge(created.secretKey, { phone: PHONES.gb, purpose: "login" })).status).toBe(201);
  });

  test("the whole policy is validated as at creation: 4 digits need --low-assurance; nothing changes when refused", async () => {
    const created = await createApp();
    const before = await show(created.id);
    const refused = await cli(["apps", "set-policy", created.id, "--code-length", "4", "--ttl-seconds", "30"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^Error: The app settings are not valid\n/);
    expect(refused.stderr).toContain("  - --code-length: 4 numeric characters give 13.3 bits, under the 20-bit floor; use a longer code or set --low-assurance\n");
    expect(refused.stderr).toContain("  - --ttl-seconds: must be an integer from 60 to 600");
    expect(refused.stderr).not.toMatch(STACK_TRACE);
    expect(await show(created.id)).toEqual(before);

    expect((await cli(["apps", "set-policy", created.id, "--code-length", "4", "--low-assurance"])).code).toBe(0);
    expect(await show(created.id)).toMatchObject({ codeLength: 4, lowAssurance: true });
    // Taking the flag away again is refused while the code is 4 digits …
    expect((await cli(["apps", "set-policy", created.id, "--no-low-assurance"])).code).toBe(1);
    // … and accepted together with a longer code.
    expect((await cli(["apps", "set-policy", created.id, "--no-low-assurance", "--code-length", "6"])).code).toBe(0);
    expect(await show(created.id)).toMatchObject({ codeLength: 6, lowAssurance: false });
  });

  test("an unknown app is a clear error with exit 1", async () => {
    const ran = await cli(["apps", "set-policy", "app_doesnotexist", "--code-length", "8"]);
    expect(ran).toMatchObject({ code: 1, stdout: "", stderr: "Error: No app app_doesnotexist\n" });
  });
});

describe("apps set-callback", () => {
  test("a URL gets a new signing secret, printed once; --keep-secret keeps it; --remove clears both", async () => {
    const created = await createApp();
    const first = await json<{ app: { id: string; callbackUrl: string }; callbackSecret: string }>([
      "apps", "set-callback", created.id, "--url", "https://hooks.example.com/otp",
    ]);
    expect(first).toEqual({
      app: { id: created.id, name: "Cli Co", callbackUrl: "https://hooks.example.com/otp" },
      callbackSecret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    expect(await callbackSecretOf(created.id)).toBe(first.callbackSecret);

    const second = await json<{ callbackSecret: string }>(["apps", "set-callback", created.id, "--url", "https://hooks.example.com/v2"]);
    expect(second.callbackSecret).not.toBe(first.callbackSecret);
    expect(await callbackSecretOf(created.id)).toBe(second.callbackSecret);

    const moved = await cli(["apps", "set-callback", created.id, "--url", "https://other.example.net/otp", "--keep-secret"]);
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain("The signing secret is unchanged.");
    expect(moved.stdout).not.toContain("whsec_");
    expect(await callbackSecretOf(created.id)).toBe(second.callbackSecret);
    expect((await show(created.id)).callbackUrl).toBe("https://other.example.net/otp");

    const removed = await cli(["apps", "set-callback", created.id, "--remove"]);
    expect(removed.code).toBe(0);
    expect((await show(created.id)).callbackUrl).toBeNull();
    expect(await callbackSecretOf(created.id)).toBeNull();

    const nothingToKeep = await cli(["apps", "set-callback", created.id, "--url", "https://hooks.example.com/otp", "--keep-secret"]);
    expect(nothingToKeep.code).toBe(1);
    expect(nothingToKeep.stderr).toContain("The app has no callback secret to keep");
  });

  test.each([
    ["http://hooks.example.com/otp", "must use https"],
    ["https://127.0.0.1/otp", "must not point to a non-public address (loopback"],
    ["https://169.254.169.254/latest/meta-data", "link-local (cloud metadata)"],
    ["https://[::ffff:10.0.0.1]/otp", "private"],
    ["https://intranet/otp", "must name a public host"],
    ["https://user:pw@hooks.example.com/otp", "must not contain credentials"],
    ["not a url", "must be an absolute URL"],
  ])("%s is refused by the SSRF rules, and the setting stays", async (url, reason) => {
    const created = await createApp(["--callback-url", "https://hooks.example.com/before"]);
    const secret = await callbackSecretOf(created.id);
    const ran = await cli(["apps", "set-callback", created.id, "--url", url]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/^Error: The callback URL is not valid\n  - --callback-url: /);
    expect(ran.stderr).toContain(reason);
    expect((await show(created.id)).callbackUrl).toBe("https://hooks.example.com/before");
    expect(await callbackSecretOf(created.id)).toBe(secret);
  });

  test("the next callback goes to the new URL, signed with the new secret", async () => {
    const { Webhook } = await import("standardwebhooks");
    const received: { raw: string; headers: http.IncomingHttpHeaders; path: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let raw = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (raw += c));
      req.on("end", () => {
        received.push({ raw, headers: req.headers, path: req.url ?? "" });
        res.writeHead(204).end();
      });
    });
    receiver.listen(0, "127.0.0.1");
    await new Promise((resolve) => receiver.once("listening", resolve));
    const local = await startHarness({ env: { CALLBACKS_ALLOW_PRIVATE_NETWORKS: "true" } });
    try {
      const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      const number = "+447400003900";
      const created = await json<Created>(["apps", "create", "--name", "Hooked", "--number", number, "--callback-url", `${base}/old`], { harness: local });
      const set = await json<{ callbackSecret: string }>(["apps", "set-callback", created.app.id, "--url", `${base}/new`], { harness: local });
      const challenge = (await local.createChallenge(created.secretKey, { phone: PHONES.de, purpose: "login" })).body as { id: string; smsBody: string };
      await local.sendSms({ from: PHONES.de, to: number, text: challenge.smsBody });
      await local.runtime.callbacks.runOnce();
      expect(received.map((r) => r.path)).toEqual(["/new"]);
      const headers = received[0]!.headers as Record<string, string>;
      expect(new Webhook(set.callbackSecret).verify(received[0]!.raw, headers)).toMatchObject({ type: "challenge.verified", data: { id: challenge.id } });
      expect(() => new Webhook(created.callbackSecret!).verify(received[0]!.raw, headers)).toThrow();
    } finally {
      await local.runtime.callbacks.stop();
      await local.close();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

describe("apps add-number and remove-number", () => {
  test("an added number verifies SMS for the app; a removed one matches nothing", async () => {
    const created = await createApp();
    const extra = nextNumber();
    const added = await json<{ app: PublicApp }>(["apps", "add-number", created.id, "--number", extra]);
    expect(added.app.numbers).toEqual([
      { number: created.number, provider: "generic" },
      { number: extra, provider: "generic" },
    ]);
    const challenge = (await h.createChallenge(created.secretKey, { phone: PHONES.gb, purpose: "login" })).body as { id: string; code: string };
    const sms = await h.sendSms({ from: PHONES.gb, to: extra, text: challenge.code });
    expect(sms.body.results[0].outcome).toBe("verified");

    const spare = nextNumber();
    await json(["apps", "add-number", created.id, "--number", spare]);
    const removed = await json<{ app: PublicApp }>(["apps", "remove-number", created.id, "--number", spare]);
    expect(removed.app.numbers.map((n) => n.number)).toEqual([created.number, extra]);
    expect((await h.sendSms({ from: PHONES.gb, to: spare, text: "123456" })).body.results[0].outcome).toBe("unknown_number");
  });

  test("refusals: a taken number, a bad number or provider, the last number, a number challenges still name, a foreign number", async () => {
    const created = await createApp();
    const other = await createApp();
    const cases: [string[], string][] = [
      [["apps", "add-number", created.id, "--number", other.number], `The number ${other.number} already belongs to an app`],
      [["apps", "add-number", created.id, "--number", "+44 12ab"], "  - --number: not a valid E.164 number"],
      [["apps", "add-number", created.id, "--number", nextNumber(), "--provider", "carrier-pigeon"], "  - --provider: unknown provider; one of: generic"],
      [["apps", "remove-number", created.id, "--number", created.number], `${created.number} is the app's only number; add another one first`],
      [["apps", "remove-number", created.id, "--number", other.number], `The app ${created.id} has no number ${other.number}`],
      [["apps", "add-number", "app_doesnotexist", "--number", nextNumber()], "No app app_doesnotexist"],
    ];
    for (const [args, message] of cases) {
      const ran = await cli(args);
      expect({ args, code: ran.code }).toEqual({ args, code: 1 });
      expect(ran.stderr).toContain(message);
      expect(ran.stderr).not.toMatch(STACK_TRACE);
    }

    // A challenge names the first number: it stays until the purge deletes the challenge.
    const second = nextNumber();
    await json(["apps", "add-number", created.id, "--number", second]);
    expect((await h.createChallenge(created.secretKey, { phone: PHONES.fr, purpose: "login" })).body.smsTo).toBe(created.number);
    const inUse = await cli(["apps", "remove-number", created.id, "--number", created.number]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain(`${created.number} is still named by 1 stored challenge(s)`);
    expect((await show(created.id)).numbers.map((n) => n.number)).toEqual([created.number, second]);
  });
});

describe("short codes and Bird channels", () => {
  test("apps create --number 36034 --country FR registers a short code; an SMS to it as smsmode writes it verifies", async () => {
    const created = await json<Created>(["apps", "create", "--name", "Short", "--number", "36041", "--country", "FR", "--provider", "smsmode"]);
    const app = await show(created.app.id);
    expect(app.numbers).toEqual([{ number: "36041", provider: "smsmode", country: "FR" }]);
    const human = await cli(["apps", "show", created.app.id]);
    expect(human.stdout).toContain("numbers: 36041 (FR short code) (smsmode)");
    // The challenge tells the user to text the short code.
    const challenge = (await h.createChallenge(created.secretKey, { phone: PHONES.fr, purpose: "login" })).body as { smsTo: string; smsUri: { android: string } };
    expect(challenge.smsTo).toBe("36041");
    expect(challenge.smsUri.android).toMatch(/^sms:36041\?body=/);
  });

  test("apps add-number takes a short code with its country, and a Bird number with its channel id; remove-number takes the short code", async () => {
    const created = await createApp();
    await json(["apps", "add-number", created.id, "--number", "36042", "--country", "fr", "--provider", "smsmode"]);
    const added = await json<{ app: PublicApp }>(["apps", "add-number", created.id, "--number", "+447400003998", "--provider", "bird", "--channel", "614208aa-0000-4000-8000-00000000c11e"]);
    expect(added.app.numbers).toEqual([
      { number: created.number, provider: "generic" },
      { number: "36042", provider: "smsmode", country: "FR" },
      { number: "+447400003998", provider: "bird", channel: "614208aa-0000-4000-8000-00000000c11e" },
    ]);
    const removed = await json<{ app: PublicApp }>(["apps", "remove-number", created.id, "--number", "36042"]);
    expect(removed.app.numbers.map((n) => n.number)).toEqual([created.number, "+447400003998"]);
  });

  test("refusals: a short code without its country, an unknown country, a number of another country, a channel twice, --channel with several numbers", async () => {
    const created = await createApp();
    const cases: [string[], number, string][] = [
      [["apps", "add-number", created.id, "--number", "36043"], 1, "  - --number: a short code needs its country (e.g. --country FR)"],
      [["apps", "add-number", created.id, "--number", "36043", "--country", "XX"], 1, '  - --number: "XX" is not an ISO 3166 alpha-2 country code'],
      [["apps", "add-number", created.id, "--number", "+447400003997", "--country", "FR"], 1, "  - --number: +447400003997 is a number of GB, not of FR"],
      [["apps", "add-number", created.id, "--number", "+447400003996", "--provider", "bird", "--channel", "has space"], 1, "  - --channel: must be 1 to 200 printable characters without spaces"],
      [["apps", "create", "--name", "X", "--number", "+447400003995", "--number", "+447400003994", "--channel", "c1"], 2, "--channel names one number: give one --number with it"],
    ];
    for (const [args, code, message] of cases) {
      const ran = await cli(args);
      expect({ args, code: ran.code }).toEqual({ args, code });
      expect(ran.stderr).toContain(message);
      expect(ran.stderr).not.toMatch(STACK_TRACE);
    }
    await json(["apps", "add-number", created.id, "--number", "+447400003993", "--provider", "bird", "--channel", "chan-taken-1"]);
    const taken = await cli(["apps", "add-number", created.id, "--number", "+447400003992", "--provider", "bird", "--channel", "chan-taken-1"]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("The bird channel chan-taken-1 already names a number");
  });
});

describe("apps rotate-key", () => {
  test("the new key works at once; the old one until --revoke-old", async () => {
    const created = await createApp();
    const read = (key: string) => h.http().get("/v1/challenges/chl_0000000000000000000000").set("Authorization", `Bearer ${key}`);
    const rotated = await json<{ key: string; previousKeysRevoked: boolean }>(["apps", "rotate-key", created.id, "--kind", "secret"]);
    expect(rotated).toMatchObject({ key: expect.stringMatching(/^sk_/), previousKeysRevoked: false });
    expect((await read(rotated.key)).status).toBe(404);
    expect((await read(created.secretKey)).status).toBe(404);
    const revoked = await json<{ key: string }>(["apps", "rotate-key", created.id, "--kind", "secret", "--revoke-old"]);
    expect((await read(revoked.key)).status).toBe(404);
    expect((await read(created.secretKey)).status).toBe(401);
    expect((await read(rotated.key)).status).toBe(401);
  });
});

describe("purge", () => {
  test("--dry-run counts what is due and deletes nothing; purge deletes exactly that in batches, with progress on stderr", async () => {
    const created = await createApp();
    // Three challenges (and one inbound message) past retention, one recent of each.
    const ids: string[] = [];
    for (const phone of [PHONES.fr, PHONES.fr2, PHONES.de, PHONES.gb]) {
      const res = await h.createChallenge(created.secretKey, { phone, purpose: "login" });
      ids.push(res.body.id);
    }
    await h.sendSms({ from: PHONES.fr, to: created.number, text: "no code here", messageId: "purge-old" });
    await h.sendSms({ from: PHONES.fr, to: created.number, text: "no code here", messageId: "purge-new" });
    await h.db.query(`UPDATE challenges SET created_at = now() - interval '31 days' WHERE id = ANY($1)`, [ids.slice(0, 3)]);
    await h.db.query(`UPDATE inbound_messages SET created_at = now() - interval '31 days' WHERE provider_message_id = 'purge-old'`);
    await h.db.query(`INSERT INTO rate_limits (key, points, expire) VALUES ('cli-test|old', 1, now() - interval '2 hours'), ('cli-test|new', 1, now() + interval '1 minute')`);
    await h.db.query(
      `INSERT INTO phone_failures (app_id, phone_hash, failures, locked_until, updated_at) VALUES ($1, 'cli-test-old', 2, NULL, now() - interval '3 days'), ($1, 'cli-test-locked', 5, now() + interval '1 hour', now() - interval '3 days')`,
      [created.id],
    );
    await h.db.query(
      `INSERT INTO inbound_parts (id, provider, group_key, part, total, provider_message_id, sealed_text, created_at) VALUES ('part_cli_old', 'vonage', 'g', 1, 2, 'm1', 'x', now() - interval '2 days')`,
    );
    const expected = { challenges: 3, inboundMessages: 1, inboundParts: 1, rateLimits: 1, phoneFailures: 1 };
    const rowsBefore = await h.countRows();

    const dry = await json<{ dryRun: boolean; counts: typeof expected; cutoffs: Record<string, string> }>(["purge", "--dry-run"]);
    expect(dry).toMatchObject({ dryRun: true, counts: expected });
    expect(Date.parse(dry.cutoffs.challengesBefore!)).toBeCloseTo(Date.now() - 30 * 86_400_000, -5);
    expect(await h.countRows()).toEqual(rowsBefore);

    const ran = await cli(["purge", "--batch-size", "2"]);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^Deleted:\n {2}inbound messages +1\n {2}challenges +3\n {2}multi-part SMS parts +1\n {2}rate-limit counters +1\n {2}wrong-code counts +1\n/);
    // Progress, not on a terminal: a table's first batch and its last, as whole lines.
    expect(ran.stderr).toContain("Purging challenges older than 30 days and inbound messages older than 720 hours…\n");
    expect(ran.stderr).toContain("Deleting challenges: 2 of 3\n");
    expect(ran.stderr).toContain("Deleting challenges: 3 of 3\n");
    expect(ran.stderr).toContain("Deleting wrong-code counts: 1 of 1\n");

    const after = await h.countRows();
    expect(after.challenges).toBe(rowsBefore.challenges! - 3);
    expect(after.inbound_messages).toBe(rowsBefore.inbound_messages! - 1);
    const kept = await h.db.query<{ id: string }>(`SELECT id FROM challenges WHERE id = ANY($1)`, [ids]);
    expect(kept.map((r) => r.id)).toEqual([ids[3]]);
    expect(await h.db.query(`SELECT key FROM rate_limits WHERE key LIKE 'cli-test|%'`)).toEqual([{ key: "cli-test|new" }]);
    expect(await h.db.query(`SELECT phone_hash FROM phone_failures WHERE phone_hash LIKE 'cli-test-%'`)).toEqual([{ phone_hash: "cli-test-locked" }]);

    // Nothing left to do.
    expect((await json<{ counts: typeof expected }>(["purge"])).counts).toEqual({
      challenges: 0,
      inboundMessages: 0,
      inboundParts: 0,
      rateLimits: 0,
      phoneFailures: 0,
    });
  });

  test("on a terminal, progress rewrites one line", async () => {
    const created = await createApp();
    const res = await h.createChallenge(created.secretKey, { phone: PHONES.fr, purpose: "signup" });
    await h.db.query(`UPDATE challenges SET created_at = now() - interval '40 days' WHERE id = $1`, [res.body.id]);
    const ran = await cli(["purge"], { tty: true });
    expect(ran.code).toBe(0);
    expect(ran.stderr).toContain("\r\x1b[2KDeleting challenges: 1 of 1\n");
  });
});

describe("migrate and simulate-sms", () => {
  test("migrate says the database is up to date", async () => {
    expect(await cli(["migrate"])).toMatchObject({ code: 0, stdout: "Database is up to date.\n", stderr: "" });
  });

  test("simulate-sms delivers a signed SMS to a running service; a wrong secret is answered 403 and exits 1", async () => {
    const server = h.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const created = await createApp();
      const challenge = (await h.createChallenge(created.secretKey, { phone: PHONES.de, purpose: "login" })).body as { id: string; smsBody: string };
      const ran = await cli(["simulate-sms", "--from", PHONES.de, "--to", created.number, "--text", challenge.smsBody, "--url", base, "--message-id", "sim-cli-1"]);
      expect(ran).toMatchObject({ code: 0, stderr: "" });
      expect(ran.stdout).toBe('200 {"results":[{"messageId":"sim-cli-1","outcome":"verified"}]}\n');

      const wrongSecret = () =>
        loadConfig({ HASH_KEY: TEST_HASH_KEY, GENERIC_WEBHOOK_SECRET: `whsec_${Buffer.from("another-secret-another-secret-12").toString("base64")}` });
      const refused = await cli(["simulate-sms", "--from", PHONES.de, "--to", created.number, "--text", "x", "--url", base], { config: wrongSecret });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/^403 .*WEBHOOK_SIGNATURE_INVALID/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(TEST_GENERIC_SECRET).toBe(h.config.genericWebhookSecrets![0]);
  });

  test("apps create --channels --outbound-countries, set-policy changes them; simulate-delivery-report moves a sent code's delivery", async () => {
    const created = await createApp(["--channels", "sms_mo, SMS", "--outbound-countries", "fr"]);
    expect(await show(created.id)).toMatchObject({ channels: ["sms_mo", "sms"], outboundCountries: ["FR"] });
    const refused = await cli(["apps", "set-policy", created.id, "--channels", "fax"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('"fax" is not a channel');
    expect(await json(["apps", "set-policy", created.id, "--outbound-countries", "default"])).toMatchObject({ app: { outboundCountries: [] } });
    await json(["apps", "set-policy", created.id, "--outbound-countries", "FR,DE"]);

    const challenge = await h.createChallenge(created.secretKey, { phone: PHONES.fr, purpose: "login", channel: "sms" });
    expect(challenge.status).toBe(201);
    const [message] = await h.db.query<{ id: string }>(`SELECT id FROM outbound_messages WHERE challenge_id = $1`, [challenge.body.id]);
    const server = h.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ran = await cli(["simulate-delivery-report", "--message-id", message!.id, "--url", base]);
      expect(ran).toMatchObject({ code: 0, stderr: "" });
      expect(ran.stdout).toMatch(/^200 /);
      const bad = await cli(["simulate-delivery-report", "--message-id", message!.id, "--status", "lost"]);
      expect(bad.code).not.toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    const view = await h.http().get(`/v1/challenges/${challenge.body.id}`).set("Authorization", `Bearer ${created.secretKey}`);
    expect(view.body).toMatchObject({ channel: "sms", delivery: { status: "delivered" } });
  });

  test("simulate-sms of a message that verifies nothing prints the outcome, explains it and exits 1", async () => {
    const server = h.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const created = await createApp();
      const ran = await cli(["simulate-sms", "--from", PHONES.de, "--to", created.number, "--text", "hello", "--url", base, "--message-id", "sim-cli-2"]);
      expect(ran.code).toBe(1);
      expect(ran.stdout).toBe('200 {"results":[{"messageId":"sim-cli-2","outcome":"no_pending_challenge"}]}\n');
      expect(ran.stderr).toBe("The service accepted the message but it verified nothing: no_pending_challenge (the sender has no pending challenge at this app)\n");
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("with DATABASE_URL, simulate-sms never signs with a secrets.json left in DATA_DIR by an embedded run", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "reverse-otp-cli-"));
    try {
      writeFileSync(path.join(dataDir, "secrets.json"), JSON.stringify({ hashKey: "h".repeat(64), genericWebhookSecret: TEST_GENERIC_SECRET }));
      const postgres = () => loadConfig({ DATABASE_URL: "postgresql://postgres@127.0.0.1:9/none", HASH_KEY: TEST_HASH_KEY, DATA_DIR: dataDir });
      const ran = await cli(["simulate-sms", "--from", PHONES.de, "--to", "+447400003998", "--text", "x", "--url", "http://127.0.0.1:9"], { config: postgres });
      expect(ran.code).toBe(2);
      expect(ran.stderr.split("\n")[0]).toBe("Error: No generic webhook secret: set GENERIC_WEBHOOK_SECRET to the same whsec_… value the service runs with");
      // Embedded mode (no DATABASE_URL) still finds the secret the service generated there.
      const embedded = () => loadConfig({ DATA_DIR: dataDir });
      const reached = await cli(["simulate-sms", "--from", PHONES.de, "--to", "+447400003998", "--text", "x", "--url", "http://127.0.0.1:9"], { config: embedded });
      expect(reached.stderr).toMatch(/^Error: Could not reach the service/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("simulate-sms to a service that is not running says so, with exit 1", async () => {
    const ran = await cli(["simulate-sms", "--from", PHONES.de, "--to", "+447400003998", "--text", "x", "--url", "http://127.0.0.1:9"]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/^Error: Could not reach the service at http:\/\/127\.0\.0\.1:9: .*Is it running\?\n$/);
  });
});

describe("the entry point, as a real process", () => {
  const ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
  const tempDirs: string[] = [];
  afterAll(() => {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const clean: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(CONFIG_KEYS)) delete clean[key];
    delete clean.NODE_OPTIONS;
    const child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), ["src/cli.ts", ...args], {
      cwd: ROOT,
      env: { ...clean, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    // A deadline for a hung process only: on a busy machine a tsx start and PGlite's initdb can take
    // a minute (seen with two CI runs at once), so it is generous, and the tests' own are longer.
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    return new Promise((resolve) => {
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  test(
    "`apps set-policy --help` exits 0 with its help; `purge --dry-run --json` migrates a new embedded folder and counts nothing",
    async () => {
      const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), "rotp-cli-")), "data");
      tempDirs.push(path.dirname(dataDir));
      const [help, purge] = await Promise.all([
        run(["apps", "set-policy", "--help"], { DATA_DIR: dataDir }),
        run(["purge", "--dry-run", "--json"], { DATA_DIR: dataDir }),
      ]);
      expect(help).toEqual({ code: 0, stdout: HELP["apps set-policy"], stderr: "" });
      expect(purge.code).toBe(0);
      expect(JSON.parse(purge.stdout)).toMatchObject({
        dryRun: true,
        counts: { challenges: 0, inboundMessages: 0, inboundParts: 0, rateLimits: 0, phoneFailures: 0 },
      });
      expect(purge.stderr).not.toMatch(STACK_TRACE);
    },
    300_000,
  );

  test(
    "CHALLENGE_CODE_LENGTH=5 stops `apps create` at the configuration, with the reason (it used to refuse every app with VALIDATION_FAILED)",
    async () => {
      const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), "rotp-cli-")), "data");
      tempDirs.push(path.dirname(dataDir));
      const ran = await run(["apps", "create", "--name", "Five", "--number", "+447400003997", "--json"], { DATA_DIR: dataDir, CHALLENGE_CODE_LENGTH: "5" });
      expect(ran.code).toBe(1);
      expect(ran.stdout).toBe("");
      expect(ran.stderr).toMatch(/^Invalid configuration:\n  - CHALLENGE_CODE_LENGTH: 5 numeric characters give 16\.6 bits, under the 20-bit floor, .*--low-assurance\)\n$/);
    },
    300_000,
  );
});
