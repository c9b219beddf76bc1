// The code policy's defaults are defined once (src/challenges/code-policy.ts): the configuration's
// defaults for new apps are checked with the same rule as an app's own policy, so a configuration
// that loads never makes `apps create` refuse its own defaults — the bug of CHALLENGE_CODE_LENGTH=5,
// which passed configuration and then made every `apps create` without --code-length fail with
// VALIDATION_FAILED (the CLI's side: test/integration/cli.test.ts). The database's column defaults (used by SQL seeds, e.g. the benchmark's) are
// the same values.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import { createAppRepository } from "../../src/apps/app-repository.js";
import { createAppService } from "../../src/apps/app-service.js";
import { DEFAULT_CODE_POLICY } from "../../src/challenges/code-policy.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { createSealer } from "../../src/shared/crypto.js";
import { startHarness, TEST_HASH_KEY, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

let numberCounter = 0;
/** Virtual numbers of this file (+44 7400 004xxx), apart from the harness's. */
const nextNumber = () => `+447400004${String(100 + numberCounter++).padStart(3, "0")}`;

/** An app service on the test database whose defaults come from `env`, as the runtime wires it. */
function appServiceFor(env: Record<string, string>) {
  const config = loadConfig(env);
  return createAppService({
    repository: createAppRepository(h.runtime.database.prisma, { secretSealer: createSealer([TEST_HASH_KEY], "callback-secret") }),
    clock: h.clock,
    providers: ["generic"],
    defaults: config.defaults,
  });
}

describe("the configured defaults of new apps", () => {
  test("CHALLENGE_CODE_LENGTH=5 (and 4) is refused at start-up with the reason, together with other bad values", () => {
    for (const length of ["4", "5"]) {
      let error: unknown;
      try {
        loadConfig({ CHALLENGE_CODE_LENGTH: length, PORT: "x" });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems.filter((p) => p.startsWith("PORT"))).toHaveLength(1);
      const [problem, ...more] = problems.filter((p) => p.startsWith("CHALLENGE_CODE_LENGTH"));
      expect(more).toEqual([]);
      expect(problem).toContain("20-bit floor");
      expect(problem).toContain("--low-assurance");
    }
  });

  test("every configuration of the defaults that loads lets `apps create` use them, and the app gets them", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 9 }),
        fc.constantFrom(59, 60, 61, 300, 599, 600, 601),
        fc.integer({ min: 0, max: 11 }),
        fc.constantFrom(59, 60, 900, 86_400, 86_401),
        async (length, ttl, attempts, lockout) => {
          const env = {
            CHALLENGE_CODE_LENGTH: String(length),
            CHALLENGE_TTL_SECONDS: String(ttl),
            CHALLENGE_MAX_ATTEMPTS: String(attempts),
            LOCKOUT_SECONDS: String(lockout),
          };
          let service: ReturnType<typeof appServiceFor>;
          try {
            service = appServiceFor(env);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            return;
          }
          const { app } = await service.create({ name: "Defaults", numbers: [{ number: nextNumber() }] });
          expect(app).toMatchObject({ codeLength: length, codeAlphabet: "numeric", codeTtlSeconds: ttl, maxAttempts: attempts, lockoutSeconds: lockout, lowAssurance: false });
        },
      ),
      { seed: 20_261_203, numRuns: 60 },
    );
  });

  test("the defaults without configuration are the code policy's", () => {
    expect(loadConfig({}).defaults).toEqual({
      codeLength: DEFAULT_CODE_POLICY.length,
      ttlSeconds: DEFAULT_CODE_POLICY.ttlSeconds,
      maxAttempts: DEFAULT_CODE_POLICY.maxAttempts,
      lockoutSeconds: DEFAULT_CODE_POLICY.lockoutSeconds,
    });
  });

  test("the database's column defaults are the code policy's", async () => {
    const rows = await h.db.query<{ column_name: string; column_default: string }>(
      `SELECT column_name, column_default FROM information_schema.columns
        WHERE table_name = 'apps' AND column_name IN ('code_length', 'code_alphabet', 'code_ttl_seconds', 'max_attempts', 'low_assurance', 'lockout_seconds')`,
    );
    const defaults = Object.fromEntries(rows.map((r) => [r.column_name, r.column_default.replace(/^'(.*)'::text$/, "$1")]));
    expect(defaults).toEqual({
      code_length: String(DEFAULT_CODE_POLICY.length),
      code_alphabet: DEFAULT_CODE_POLICY.alphabet,
      code_ttl_seconds: String(DEFAULT_CODE_POLICY.ttlSeconds),
      max_attempts: String(DEFAULT_CODE_POLICY.maxAttempts),
      low_assurance: String(DEFAULT_CODE_POLICY.lowAssurance),
      lockout_seconds: String(DEFAULT_CODE_POLICY.lockoutSeconds),
    });
  });
});
