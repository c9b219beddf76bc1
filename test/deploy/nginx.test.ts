// deploy/nginx/reverse-otp.conf in front of the service, as docs/operations.md installs it: Debian's
// nginx runs that file with TLS replaced by plain HTTP on loopback ports (the only change, made
// below and checked to apply), the service listens behind it with TRUST_PROXY=127.0.0.1, and the
// README's PostgreSQL walk-through, a long-poll and an event stream go through nginx.
// `.ci/run` installs nginx when it is missing; without it (or without PostgreSQL) this says so.
import { randomBytes } from "node:crypto";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { onPostgres, openTestDatabase, type TestDatabase } from "../support/database.js";
import { cleanCopy, freePort, ROOT, runBash, walkthroughResults, walkthroughScript } from "../support/walkthrough.js";

// Real random secrets: weak ones (repeated characters) are refused at start-up.
const HASH_KEY = randomBytes(36).toString("base64");
const GENERIC_WEBHOOK_SECRET = `whsec_${randomBytes(32).toString("base64")}`;
// On PostgreSQL /metrics is closed without a token (production defaults): the operator's scraper sends it.
const METRICS_TOKEN = randomBytes(32).toString("hex");

const NGINX = "/usr/sbin/nginx";
const hasNginx = existsSync(NGINX);
const TIMEOUT_MS = 150_000;

const suite = hasNginx && onPostgres ? describe : describe.skip;
if (!hasNginx) test.skip("the nginx tests need Debian's nginx at /usr/sbin/nginx (apt-get install nginx): skipped", () => undefined);
if (!onPostgres) test.skip("the nginx tests run the PostgreSQL walk-through and need DATABASE_URL: skipped", () => undefined);

/**
 * The deployment file with TLS swapped for plain HTTP on loopback ports, the upstream on the
 * service's test port and the access log in `dir`. Throws when an expected line is missing, so
 * the file cannot drift away from what this test runs.
 */
export function nginxConfForTest(conf: string, ports: { https: number; http: number; service: number }, dir: string): string {
  const replacements: [RegExp, string][] = [
    [/^\s*server 127\.0\.0\.1:3000;$/m, `    server 127.0.0.1:${ports.service};`],
    [/^\s*listen 80;\n\s*listen \[::\]:80;$/m, `    listen 127.0.0.1:${ports.http};`],
    [/^\s*listen 443 ssl http2;\n\s*listen \[::\]:443 ssl http2;$/m, `    listen 127.0.0.1:${ports.https};`],
    [/^\s*ssl_certificate .*\n\s*ssl_certificate_key .*\n\s*ssl_protocols .*$/m, ""],
    [/access_log \/var\/log\/nginx\/reverse-otp\.access\.log reverse_otp;/, `access_log ${dir}/access.log reverse_otp;`],
  ];
  let out = conf;
  for (const [pattern, replacement] of replacements) {
    if (!pattern.test(out)) throw new Error(`deploy/nginx/reverse-otp.conf no longer has ${pattern}`);
    out = out.replace(pattern, replacement);
  }
  return out;
}

suite("deploy/nginx/reverse-otp.conf in front of the service", () => {
  let dir: string;
  let copy: ReturnType<typeof cleanCopy>;
  let database: TestDatabase;
  let nginx: ChildProcess | undefined;
  let service: ChildProcess | undefined;
  const ports = { https: 0, http: 0, service: 0 };
  let base: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "rotp-nginx-"));
    chmodSync(dir, 0o755);
    for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(path.join(dir, sub));
    ports.https = await freePort();
    ports.http = await freePort();
    ports.service = await freePort();
    base = `http://127.0.0.1:${ports.https}`;
    const site = nginxConfForTest(readFileSync(path.join(ROOT, "deploy/nginx/reverse-otp.conf"), "utf8"), ports, dir);
    writeFileSync(path.join(dir, "reverse-otp.conf"), site);
    writeFileSync(
      path.join(dir, "nginx.conf"),
      [
        ...(process.getuid?.() === 0 ? ["user root;"] : []),
        "daemon off;",
        "worker_processes 1;",
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log warn;`,
        "events { worker_connections 256; }",
        "http {",
        `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
        `  access_log ${dir}/default-access.log;`,
        `  include ${dir}/reverse-otp.conf;`,
        "}",
      ].join("\n"),
    );
    const checked = spawnSync(NGINX, ["-t", "-c", path.join(dir, "nginx.conf")], { encoding: "utf8" });
    if (checked.status !== 0) throw new Error(`nginx -t refused the configuration:\n${checked.stderr}`);
    nginx = spawn(NGINX, ["-c", path.join(dir, "nginx.conf")], { stdio: "ignore" });
    copy = cleanCopy();
    database = await openTestDatabase({ migrate: false });
    env = { PORT: String(ports.service), PUBLIC_BASE_URL: base, TRUST_PROXY: "127.0.0.1" };
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${ports.http}/`, { redirect: "manual" }).then(() => true, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    for (const child of [service, nginx]) {
      if (child?.pid) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          child.kill("SIGTERM");
        }
      }
    }
    nginx?.kill("SIGQUIT");
    await new Promise((resolve) => setTimeout(resolve, 300));
    await database?.drop();
    copy?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    "the README's PostgreSQL walk-through runs to the end through nginx",
    async () => {
      const script = walkthroughScript(["postgresql", "common"], { baseHostPort: `127.0.0.1:${ports.https}`, databaseUrl: database.url! });
      const ran = await runBash(script, { cwd: copy.dir, env, timeoutMs: TIMEOUT_MS });
      const explain = `exit ${ran.code}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}\n--- nginx\n${readFileSync(path.join(dir, "error.log"), "utf8")}`;
      expect({ code: ran.code, explain }).toEqual({ code: 0, explain });
      const out = walkthroughResults(ran.stdout);
      expect(out.simulated).toMatch(/"outcome":"verified"/);
      expect(out.views.map((v) => v.status)).toEqual(["verified", "verified"]);
      // The requests went through nginx: its access log has them, without query strings.
      const log = readFileSync(path.join(dir, "access.log"), "utf8");
      expect(log).toMatch(/"POST \/v1\/challenges" 201 /);
      expect(log).toMatch(/"POST \/v1\/inbound\/generic" 200 /);
      expect(log).toMatch(/"GET \/readyz" 200 /);
    },
    TIMEOUT_MS + 10_000,
  );

  describe("with the service running behind it", () => {
    let keys: { secretKey: string; publishableKey: string };
    const number = "+447400000300";

    beforeAll(async () => {
      const created = await runBash(
        `npm run --silent cli -- apps create --name Proxied --number ${number} --rate-limit-publishable-key-per-minute 2 --json`,
        { cwd: copy.dir, env: { ...env, DATABASE_URL: database.url!, HASH_KEY }, timeoutMs: TIMEOUT_MS },
      );
      if (created.code !== 0) throw new Error(created.stderr);
      keys = JSON.parse(created.stdout) as typeof keys;
      service = spawn("node", ["--import", "tsx", "src/server.ts"], {
        cwd: copy.dir,
        env: { ...process.env, NODE_OPTIONS: "", ...env, DATABASE_URL: database.url!, HASH_KEY, GENERIC_WEBHOOK_SECRET, METRICS_TOKEN },
        detached: true,
        stdio: "ignore",
      });
      for (let i = 0; i < 300; i++) {
        if ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error("the service did not become ready behind nginx");
    }, TIMEOUT_MS + 60_000); // a CLI process, then the service's start

    const challenge = async (phone: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/v1/challenges`, {
        method: "POST",
        headers: { authorization: `Bearer ${keys.secretKey}`, "content-type": "application/json", ...headers },
        body: JSON.stringify({ phone, purpose: "login" }),
      });

    const simulate = (from: string, text: string) =>
      runBash(`npm run --silent cli -- simulate-sms --from ${from} --to ${number} --text "${text}"`, {
        cwd: copy.dir,
        env: { ...env, DATABASE_URL: database.url!, HASH_KEY, GENERIC_WEBHOOK_SECRET },
        timeoutMs: TIMEOUT_MS,
      });

    test(
      "a long-poll is answered at the verification, and one that waits its full 30 seconds is not cut off",
      async () => {
        const quiet = (await (await challenge("+33612345601")).json()) as { id: string };
        const waited = fetch(`${base}/v1/challenges/${quiet.id}?waitSeconds=30`, { headers: { authorization: `Bearer ${keys.secretKey}` } });

        const c = (await (await challenge("+33612345602")).json()) as { id: string; smsBody: string };
        // Answered "verified" (not "pending", as at the end of its wait): the verification woke it.
        const polled = fetch(`${base}/v1/challenges/${c.id}?waitSeconds=30`, { headers: { authorization: `Bearer ${keys.secretKey}` } });
        expect((await simulate("+33612345602", c.smsBody)).code).toBe(0);
        const answer = await polled;
        expect(answer.status).toBe(200);
        expect(((await answer.json()) as { status: string }).status).toBe("verified");

        const full = await waited;
        expect(full.status).toBe(200);
        expect(((await full.json()) as { status: string }).status).toBe("pending");
      },
      TIMEOUT_MS + 10_000,
    );

    test("an event stream delivers its first event at once, then the verification, unbuffered", async () => {
      const c = (await (await challenge("+33612345603")).json()) as { id: string; smsBody: string };
      const response = await fetch(`${base}/v1/challenges/${c.id}/events`, { headers: { authorization: `Bearer ${keys.secretKey}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      const until = async (pattern: RegExp) => {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        return pattern.test(text);
      };
      // The first event arrives while the challenge is still pending: nothing holds it back.
      expect(await until(/"status":"pending"/)).toBe(true);
      expect((await simulate("+33612345603", c.smsBody)).code).toBe(0);
      expect(await until(/"status":"verified"/)).toBe(true);
      await reader.cancel();
    }, TIMEOUT_MS + 10_000);

    test("a client cannot forge X-Forwarded-For: nginx replaces it, so per-IP limits hold", async () => {
      const create = (ip: string, phone: string) =>
        fetch(`${base}/v1/challenges`, {
          method: "POST",
          headers: { authorization: `Bearer ${keys.publishableKey}`, "content-type": "application/json", "x-forwarded-for": ip },
          body: JSON.stringify({ phone, purpose: "login" }),
        });
      // The app allows 2 creations per publishable key and client address per minute.
      expect((await create("198.51.100.1", "+33612345611")).status).toBe(201);
      expect((await create("198.51.100.2", "+33612345612")).status).toBe(201);
      const third = await create("198.51.100.3", "+33612345613");
      expect(third.status).toBe(429);
      expect(((await third.json()) as { code: string }).code).toBe("RATE_LIMITED");
    });

    test("body limits: 16 KB for the API at nginx; plain HTTP redirects to https; operators' paths from loopback", async () => {
      const big = await challenge(`+3361234${"5".repeat(20_000)}`);
      expect(big.status).toBe(413);
      const redirect = await fetch(`http://127.0.0.1:${ports.http}/v1/challenges`, { redirect: "manual" });
      expect(redirect.status).toBe(301);
      expect(redirect.headers.get("location")).toBe("https://127.0.0.1/v1/challenges");
      expect((await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    });
  });
});
