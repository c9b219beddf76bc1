// ESM + ts-jest: run with NODE_OPTIONS=--experimental-vm-modules (see `npm test`).
/** @type {import('jest').Config} */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // Fault tests kill their own PostgreSQL: `npm run test:fault`.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/fault/"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json", diagnostics: false }],
  },
  // Strip ".js" from relative imports so ts-jest finds the .ts file, but leave
  // libphonenumber-js's "metadata.max.json.js" alone.
  moduleNameMapper: { "^(\\.{1,2}/.*)(?<!\\.json)\\.js$": "$1" },
  globalSetup: "<rootDir>/test/support/global-setup.js",
  globalTeardown: "<rootDir>/test/support/global-teardown.js",
  // The longest files first when jest has no timings of its own (a clean clone).
  testSequencer: "<rootDir>/test/support/test-sequencer.js",
  // Generous: tests assert outcomes, not timing, and must pass on a busy machine (hooks get it too:
  // a harness start-up creates and migrates a database, seconds when another job loads the cores).
  testTimeout: 180_000,
  maxWorkers: 2,
};
