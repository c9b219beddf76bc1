// `npm run security-report` (scripts/security-report.ts): the test files behind SECURITY.md's
// figures 1–7, 11 and 13 and the guarantees of the security review (S lines), plus the measurements the suite does not make at the reported size
// (test/security/*.report.ts). Not part of `npm test`.
import base from "./jest.config.js";

/** @type {import('jest').Config} */
export default {
  ...base,
  testMatch: [
    "<rootDir>/test/integration/providers/*.test.ts",
    "<rootDir>/test/integration/webhook-security.test.ts",
    "<rootDir>/test/unit/providers/*.test.ts",
    "<rootDir>/test/unit/standard-webhooks.test.ts",
    "<rootDir>/test/integration/concurrency.test.ts",
    "<rootDir>/test/integration/attempts-and-expiry.test.ts",
    "<rootDir>/test/integration/malformed-input.test.ts",
    "<rootDir>/test/integration/privacy.test.ts",
    // The guarantees added after the security review of issue 11 (figure 13 and the S lines).
    "<rootDir>/test/integration/idempotency-and-digests.test.ts",
    "<rootDir>/test/integration/log-redaction.test.ts",
    "<rootDir>/test/integration/waiter-limits.test.ts",
    "<rootDir>/test/integration/production-defaults.test.ts",
    "<rootDir>/test/integration/rate-limits.test.ts",
    "<rootDir>/test/integration/creation-limits.test.ts",
    "<rootDir>/test/unit/challenges/creation-decision.test.ts",
    "<rootDir>/test/unit/callbacks/special-purpose-ranges.test.ts",
    "<rootDir>/test/unit/shared/secret-strength.test.ts",
    "<rootDir>/test/unit/config.test.ts",
    "<rootDir>/test/unit/limits/client-key.test.ts",
    "<rootDir>/test/unit/http/request-logger.test.ts",
    "<rootDir>/test/security/*.report.ts",
  ],
  setupFilesAfterEnv: ["<rootDir>/test/security/tally.ts"],
  testTimeout: 600_000,
};
