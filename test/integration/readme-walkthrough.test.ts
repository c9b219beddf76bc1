// The README's walk-through, run as written, in a clean copy of the repository: on PostgreSQL the
// PostgreSQL one, on embedded PGlite the embedded one (each followed by the common steps). If a
// command of the README stops working, or leaves files in the repository, this fails.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { onPostgres, openTestDatabase, type TestDatabase } from "../support/database.js";
import { cleanCopy, freePort, runBash, walkthroughResults, walkthroughScript } from "../support/walkthrough.js";

const WALKTHROUGH_TIMEOUT_MS = 150_000;

let copy: ReturnType<typeof cleanCopy>;
let database: TestDatabase | undefined;

beforeAll(async () => {
  copy = cleanCopy();
  // An empty database: the service itself migrates it, as on a reader's first start.
  if (onPostgres) database = await openTestDatabase({ migrate: false });
});
afterAll(async () => {
  await database?.drop();
  copy?.remove();
});

describe(`the README's walk-through on ${onPostgres ? "PostgreSQL" : "the embedded database"}, in a clean copy of the repository`, () => {
  test(
    "runs to the end: an app, a challenge, a simulated SMS that verifies it, a read and one consume; nothing left in the repository",
    async () => {
      const port = await freePort();
      const script = walkthroughScript(onPostgres ? ["postgresql", "common"] : ["embedded", "common"], {
        baseHostPort: `127.0.0.1:${port}`,
        ...(database ? { databaseUrl: database.url! } : {}),
      });
      const before = readdirSync(copy.dir).sort();
      const ran = await runBash(script, { cwd: copy.dir, env: { PORT: String(port) }, timeoutMs: WALKTHROUGH_TIMEOUT_MS });
      const explain = `exit ${ran.code}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`;
      expect({ code: ran.code, explain }).toEqual({ code: 0, explain });

      const out = walkthroughResults(ran.stdout);
      expect(out.app).toMatchObject({ app: { name: "Acme" }, secretKey: expect.stringMatching(/^sk_/), publishableKey: expect.stringMatching(/^pk_/) });
      expect(out.challenge).toMatchObject({ status: "pending", smsTo: "+447400000100", code: expect.stringMatching(/^\d{6}$/) });
      expect(out.simulated).toMatch(/^200 \{"results":\[\{"messageId":"sim_\w+","outcome":"verified"\}\]\}$/);
      expect(out.views).toEqual([
        expect.objectContaining({ id: out.challenge!.id, status: "verified", consumedAt: null }),
        expect.objectContaining({ id: out.challenge!.id, status: "verified", consumedAt: expect.any(String) }),
      ]);
      // No CLI error or warning (e.g. a provider without its secret) on the way.
      expect(ran.stderr).toBe("");

      // Its files went to the temporary folder, which it removed: the repository gained nothing
      // but, in embedded mode, the data folder.
      const after = readdirSync(copy.dir).sort();
      expect(after.filter((f) => !before.includes(f))).toEqual(onPostgres ? [] : [".data"]);
      expect(existsSync(path.join(copy.dir, "app.json"))).toBe(false);
    },
    WALKTHROUGH_TIMEOUT_MS + 10_000,
  );

  (onPostgres ? test : test.skip)(
    "on PostgreSQL without GENERIC_WEBHOOK_SECRET, creating a generic app and starting the service both warn, naming the variable",
    async () => {
      const port = await freePort();
      const script = [
        `export DATABASE_URL=${database!.url}`,
        "export HASH_KEY=$(openssl rand -base64 48)",
        "npm run --silent cli -- apps create --name Quiet --number +447400000200 --json > /dev/null",
        "node --import tsx src/server.ts > server.log 2>&1 & server=$!",
        `for i in $(seq 60); do curl -sf http://127.0.0.1:${port}/readyz > /dev/null && break; sleep 1; done`,
        "kill $server; wait $server || true",
        "cat server.log; rm server.log",
      ].join("\n");
      const ran = await runBash(script, { cwd: copy.dir, env: { PORT: String(port) }, timeoutMs: WALKTHROUGH_TIMEOUT_MS });
      expect(ran.code).toBe(0);
      const warning = /GENERIC_WEBHOOK_SECRET is not set, but (app "Quiet"|\d+ apps \([^)]*"Quiet"[^)]*\)) receives? SMS through the generic provider: every delivery to \/v1\/inbound\/generic is refused \(as a forged request is\) until it is set/;
      expect(ran.stderr).toMatch(new RegExp(`^Warning: ${warning.source}`));
      // The service logs JSON when its output is not a terminal: one warn line.
      const warnings = ran.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { level: number; msg: string; variable?: string }).filter((l) => l.level === 40);
      expect(warnings).toEqual([expect.objectContaining({ variable: "GENERIC_WEBHOOK_SECRET", msg: expect.stringMatching(warning) })]);
    },
    WALKTHROUGH_TIMEOUT_MS + 10_000,
  );
});
