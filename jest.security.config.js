// `npm run security-report` (scripts/security-report.ts): the test files behind SECURITY.md's
// figures 1–7 and 11, plus the measurements the suite does not make at the reported size
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
    "<rootDir>/test/security/*.report.ts",
  ],
  setupFilesAfterEnv: ["<rootDir>/test/security/tally.ts"],
  testTimeout: 600_000,
};
