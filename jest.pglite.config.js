// The embedded-PGlite pass of `.ci/run` (run without DATABASE_URL): the integration and database
// suites again, on the engine embedded mode uses (PGlite: PostgreSQL compiled to WebAssembly, one
// connection, so every transaction runs alone). It keeps what can behave differently on that
// engine: the migrations, the SQL of every path (creation, the webhook's one-statement and
// step-by-step paths, expiry, lock-out, limits, callbacks and the outbox, notices, retention,
// dashboard statistics), embedded mode itself (the README's embedded walk-through), and what is
// stored and answered. It leaves out, each for the reason given, the files whose outcome does not
// depend on the engine: they run in the PostgreSQL pass (`npm test` with DATABASE_URL).
// See docs/testing.md ("The embedded-PGlite pass").
import base from "./jest.config.js";

/** Files of test/integration left out of this pass, and why (paths relative to the repository). */
const SAME_ON_EVERY_ENGINE = [
  // Always runs on embedded PGlite, in real processes of its own, whatever DATABASE_URL says: the
  // PostgreSQL pass already runs it exactly as this pass would.
  "test/integration/embedded-and-cli.test.ts",
  // The command line's parsing, output and exit codes, in-process over services whose SQL the files
  // kept here test (apps, keys, retention in operations.test.ts); its two real processes run on
  // embedded PGlite whatever DATABASE_URL says.
  "test/integration/cli.test.ts",
  // Each provider's signature scheme and payload parsing (and the property-based mutations of
  // signed requests, refused before anything is written): what follows a verified request is the
  // inbound path that flow, one-sms-one-challenge, webhook-fast-path and attempts-and-expiry run here.
  "test/integration/providers/",
  // Configuration and HTTP only: production defaults read from the environment, the Bearer header
  // rule, secrets kept out of the request log.
  "test/integration/production-defaults.test.ts",
  "test/integration/bearer.test.ts",
  "test/integration/log-redaction.test.ts",
  // PostgreSQL only (several real connections, the wire protocol): they would only say "skipped".
  "test/integration/concurrency.test.ts",
  "test/integration/statement-counts.test.ts",
];

/** @type {import('jest').Config} */
export default {
  ...base,
  roots: ["<rootDir>/test/integration", "<rootDir>/test/db"],
  testPathIgnorePatterns: [...base.testPathIgnorePatterns, ...SAME_ON_EVERY_ENGINE.map((p) => `<rootDir>/${p}`)],
};
