// Fault tests: they start (and kill) a private PostgreSQL. Run with `npm run test:fault`.
import base from "./jest.config.js";

/** @type {import('jest').Config} */
export default {
  ...base,
  roots: ["<rootDir>/test/fault"],
  testPathIgnorePatterns: [],
  globalSetup: undefined,
  globalTeardown: undefined,
  maxWorkers: 1,
};
