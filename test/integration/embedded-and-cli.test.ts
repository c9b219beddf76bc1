// Real processes on embedded PGlite: the CLI on a new, empty data folder, the server on the same
// folder, the one-process-per-folder lock, secrets that survive a restart, and start-up refusals.
// Each process start costs a second or more, so the scenarios are few and share one data folder
// (each still creates its own app).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { CONFIG_KEYS } from "../../src/config.js";
import { signStandardWebhook } from "../../src/providers/standard-webhooks.js";

const ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const PROCESS_TIMEOUT_MS = 150_000;
const STACK_TRACE = /^\s+at .+[:(]/m;

type Finished = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

const running = new Set<ChildProcess>();
const tempDirs: string[] = [];
let dataDir: string;

/** The test environment without any of the service's variables (and without jest's NODE_OPTIONS). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(CONFIG_KEYS)) delete env[key];
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

const embeddedEnv = (extra: Record<string, string> = {}) => cleanEnv({ DATA_DIR: dataDir, ...extra });

/** Starts `tsx <script> …args` in its own process group, so that the group can be stopped as one. */
function start(script: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(TSX, [script, ...args], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const output = { stdout: "", stderr: "" };
  child.stdout!.on("data", (chunk: Buffer) => (output.stdout += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output.stderr += chunk.toString("utf8")));
  const exited = new Promise<Finished>((resolve) => {
    child.on("close", (code, signal) => {
      running.delete(child);
      resolve({ code, signal, ...output });
    });
  });
  return { child, output, exited };
}

function stopGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/** Runs a CLI command to its end (killed after PROCESS_TIMEOUT_MS). */
async function cli(args: string[], env: NodeJS.ProcessEnv = embeddedEnv()): Promise<Finished> {
  const { child, exited } = start("src/cli.ts", args, env);
  const timer = setTimeout(() => stopGroup(child, "SIGKILL"), PROCESS_TIMEOUT_MS);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

type Server = { base: string; child: ChildProcess; exited: Promise<Finished>; output: { stdout: string; stderr: string } };

/** Starts the server and waits until /healthz answers, or fails with what the process printed. */
async function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const port = await freePort();
  const started = start("src/server.ts", [], { ...env, HOST: "127.0.0.1", PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  let exitedEarly: Finished | undefined;
  void started.exited.then((f) => (exitedEarly = f));
  const deadline = Date.now() + PROCESS_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(`server exited with ${exitedEarly.code}: ${exitedEarly.stderr}${exitedEarly.stdout}`);
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return { base, ...started };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  stopGroup(started.child, "SIGKILL");
  throw new Error(`server did not answer /healthz: ${started.output.stderr}${started.output.stdout}`);
}

/**
 * Stops the server the way a supervisor does, with SIGTERM, and resolves with how it ended.
 *
 * The signal goes to the server's own process (the pid its lock file names), not to the group:
 * tsx's wrapper, when it receives a signal too, waits only 30 ms for its child to confirm that it
 * handles it and SIGKILLs the child otherwise, so on a busy machine a group SIGTERM would skip the
 * graceful shutdown depending on timing. The group is still killed if that fails.
 */
async function stopServer(server: Server): Promise<Finished> {
  const lockFile = path.join(dataDir, "reverse-otp.lock");
  const pid = existsSync(lockFile) ? Number.parseInt(readFileSync(lockFile, "utf8"), 10) : Number.NaN;
  if (Number.isInteger(pid) && pid > 0 && pid !== server.child.pid) process.kill(pid, "SIGTERM");
  else stopGroup(server.child, "SIGTERM");
  const timer = setTimeout(() => stopGroup(server.child, "SIGKILL"), PROCESS_TIMEOUT_MS);
  try {
    return await server.exited;
  } finally {
    clearTimeout(timer);
  }
}

function parseJson(out: Finished): Record<string, unknown> {
  if (out.code !== 0) throw new Error(`exit ${out.code}: ${out.stderr}`);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

type CreatedApp = { app: { id: string; name: string }; secretKey: string; publishableKey: string; callbackSecret?: string };

beforeAll(() => {
  dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), "rotp-embedded-")), "data");
  tempDirs.push(path.dirname(dataDir));
});

afterAll(() => {
  for (const child of running) stopGroup(child, "SIGKILL");
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("the CLI on embedded PGlite", () => {
  test(
    "apps create on a new, empty folder migrates it and prints exactly the documented JSON; apps list shows the app",
    async () => {
      expect(existsSync(dataDir)).toBe(false);
      const plain = parseJson(await cli(["apps", "create", "--name", "Test", "--number", "+447400000100", "--json"])) as CreatedApp;
      expect(Object.keys(plain).sort()).toEqual(["app", "publishableKey", "secretKey"]);
      expect(Object.keys(plain.app).sort()).toEqual(["id", "name"]);
      expect(plain.app).toEqual({ id: expect.stringMatching(/^app_[0-9A-Za-z]{22}$/), name: "Test" });
      expect(plain.secretKey).toMatch(/^sk_[0-9A-Za-z]{32}$/);
      expect(plain.publishableKey).toMatch(/^pk_[0-9A-Za-z]{32}$/);

      // The folder now holds the database, its generated secrets (owner-only) and no lock.
      expect(existsSync(path.join(dataDir, "pgdata"))).toBe(true);
      const secretsFile = path.join(dataDir, "secrets.json");
      expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
      const secrets = JSON.parse(readFileSync(secretsFile, "utf8")) as { hashKey: string; genericWebhookSecret: string };
      expect(secrets.hashKey.length).toBeGreaterThanOrEqual(32);
      expect(secrets.genericWebhookSecret).toMatch(/^whsec_/);
      expect(existsSync(path.join(dataDir, "reverse-otp.lock"))).toBe(false);

      // With a callback URL, and only then, a callback signing secret is printed too.
      const withCallback = parseJson(
        await cli(["apps", "create", "--name", "Hooked", "--number", "+447400000101", "--callback-url", "https://app.example.com/otp-callback", "--json"]),
      ) as CreatedApp;
      expect(Object.keys(withCallback).sort()).toEqual(["app", "callbackSecret", "publishableKey", "secretKey"]);
      expect(withCallback.callbackSecret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);

      const listed = parseJson(await cli(["apps", "list", "--json"])) as { apps: { id: string; name: string; numbers: { number: string; provider: string }[] }[] };
      expect(listed.apps).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: plain.app.id, name: "Test", numbers: [{ number: "+447400000100", provider: "generic" }] }),
          expect.objectContaining({ id: withCallback.app.id, name: "Hooked", callbackUrl: "https://app.example.com/otp-callback" }),
        ]),
      );
      // The listing never shows keys or secrets.
      const listing = JSON.stringify(listed);
      for (const secret of [plain.secretKey, plain.publishableKey, withCallback.secretKey, withCallback.callbackSecret!]) {
        expect(listing).not.toContain(secret);
      }
    },
    300_000,
  );

  test(
    "bad input ends with a non-zero exit and a clear message on stderr, without a stack trace",
    async () => {
      // Only the third opens the database (and takes the folder's lock); the others stop at the
      // command line, so all four can run at once.
      const [missingName, unknownCommand, badNumberAndProvider, unknownOption] = await Promise.all([
        cli(["apps", "create", "--number", "+447400000102", "--json"]),
        cli(["frobnicate", "--now"]),
        cli(["apps", "create", "--name", "Bad", "--number", "+44 12ab", "--provider", "carrier-pigeon", "--json"]),
        cli(["apps", "create", "--name", "Bad", "--number", "+447400000103", "--colour", "blue"]),
      ]);

      expect(missingName.code).not.toBe(0);
      expect(missingName.stderr).toContain("--name");
      expect(unknownCommand.code).not.toBe(0);
      expect(unknownCommand.stderr).toContain('Unknown command "frobnicate"');
      expect(badNumberAndProvider.code).not.toBe(0);
      // Named by the options that set them.
      expect(badNumberAndProvider.stderr).toMatch(/ - --number: not a valid E\.164 number/);
      expect(badNumberAndProvider.stderr).toMatch(/ - --provider: unknown provider/);
      expect(unknownOption.code).not.toBe(0);
      expect(unknownOption.stderr).toContain("--colour");
      for (const out of [missingName, unknownCommand, badNumberAndProvider, unknownOption]) {
        expect(out.stdout).toBe("");
        expect(out.stderr).not.toMatch(STACK_TRACE);
      }
      // Nothing was created by the refused commands.
      const listed = parseJson(await cli(["apps", "list", "--json"])) as { apps: { name: string }[] };
      expect(listed.apps.map((a) => a.name)).not.toContain("Bad");
    },
    300_000,
  );
});

describe("the server on embedded PGlite", () => {
  test(
    "serves the folder the CLI prepared, locks it against a second process, and keeps its secrets across a restart",
    async () => {
      const created = parseJson(await cli(["apps", "create", "--name", "Restart", "--number", "+447400000104", "--json"])) as CreatedApp;
      const secretsBefore = readFileSync(path.join(dataDir, "secrets.json"), "utf8");

      const server = await startServer(embeddedEnv());
      let challenge: { id: string; code: string; pollToken: string; smsTo: string };
      try {
        expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
        const ready = await fetch(`${server.base}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toEqual({ status: "ready" });

        const res = await fetch(`${server.base}/v1/challenges`, {
          method: "POST",
          headers: { authorization: `Bearer ${created.publishableKey}`, "content-type": "application/json" },
          body: JSON.stringify({ phone: "+33612345678", purpose: "login" }),
        });
        expect(res.status).toBe(201);
        challenge = (await res.json()) as typeof challenge;
        expect(challenge.smsTo).toBe("+447400000104");

        // A second process on the same folder says it is in use, by whom, and stops.
        const lockPid = readFileSync(path.join(dataDir, "reverse-otp.lock"), "utf8").trim();
        const second = await cli(["apps", "list", "--json"]);
        expect(second.code).not.toBe(0);
        expect(second.stderr).toMatch(/in use/);
        expect(second.stderr).toContain(`(pid ${lockPid})`);
        expect(second.stderr).not.toMatch(STACK_TRACE);
        expect(second.stdout).toBe("");
      } finally {
        const stopped = await stopServer(server);
        expect(stopped.code).toBe(0);
      }
      expect(existsSync(path.join(dataDir, "reverse-otp.lock"))).toBe(false);
      expect(readFileSync(path.join(dataDir, "secrets.json"), "utf8")).toBe(secretsBefore);

      // With Vonage configured, the start-up log says that Vonage support must enable SMS API signing.
      const restarted = await startServer(embeddedEnv({ VONAGE_SIGNATURE_SECRET: "vonage-signature-secret-restart-0123" }));
      try {
        const read = await fetch(`${restarted.base}/v1/challenges/${challenge.id}`, { headers: { "x-poll-token": challenge.pollToken } });
        expect(read.status).toBe(200);
        expect(await read.json()).toMatchObject({ id: challenge.id, status: "pending" });

        // The phone and code HMACs (HASH_KEY) and the generic webhook secret are the ones from
        // before the restart: a signed SMS with the code verifies the challenge.
        const { genericWebhookSecret } = JSON.parse(secretsBefore) as { genericWebhookSecret: string };
        const body = JSON.stringify({ messageId: "restart-sms-1", from: "+33612345678", to: challenge.smsTo, text: challenge.code });
        const timestamp = Math.floor(Date.now() / 1000);
        const sms = await fetch(`${restarted.base}/v1/inbound/generic`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "webhook-id": "wh_restart_1",
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signStandardWebhook(genericWebhookSecret, "wh_restart_1", timestamp, body),
          },
          body,
        });
        expect(sms.status).toBe(200);
        expect(await sms.json()).toEqual({ results: [{ messageId: "restart-sms-1", outcome: "verified" }] });
        const after = await fetch(`${restarted.base}/v1/challenges/${challenge.id}`, { headers: { authorization: `Bearer ${created.secretKey}` } });
        expect(await after.json()).toMatchObject({ status: "verified" });
      } finally {
        const stopped = await stopServer(restarted);
        expect(stopped.code).toBe(0);
        expect(stopped.stdout).toContain("vonage: SMS API webhooks are accepted only when signed, and Vonage signs them only after Vonage support has enabled signing");
      }
    },
    300_000,
  );

  test(
    "with DATABASE_URL but without HASH_KEY the server refuses to start, naming HASH_KEY",
    async () => {
      const started = start("src/server.ts", [], cleanEnv({ DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none", PORT: String(await freePort()) }));
      const timer = setTimeout(() => stopGroup(started.child, "SIGKILL"), PROCESS_TIMEOUT_MS);
      const out = await started.exited.finally(() => clearTimeout(timer));
      expect(out.code).not.toBe(0);
      expect(out.signal).toBeNull();
      expect(out.stderr).toMatch(/HASH_KEY/);
      expect(out.stderr).not.toMatch(STACK_TRACE);
    },
    300_000,
  );

  test(
    "with a weak GENERIC_WEBHOOK_SECRET (whsec_ and an empty key) the server refuses to start and says how to make a good one",
    async () => {
      const started = start("src/server.ts", [], embeddedEnv({ GENERIC_WEBHOOK_SECRET: "whsec_", PORT: String(await freePort()) }));
      const timer = setTimeout(() => stopGroup(started.child, "SIGKILL"), PROCESS_TIMEOUT_MS);
      const out = await started.exited.finally(() => clearTimeout(timer));
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(/GENERIC_WEBHOOK_SECRET: the secret decodes to 0 bytes; Standard Webhooks keys are 24 to 64 random bytes/);
      expect(out.stderr).toContain("openssl rand -base64 32");
      expect(out.stderr).not.toMatch(STACK_TRACE);
    },
    300_000,
  );
});
