// Jest runs the test files it timed before longest first, so that no worker is left with a long
// file at the end while the other idles; without timings (a clean clone: jest keys them by the
// clone's path) it orders by file size, which puts files that start real processes or run
// thousands of requests anywhere. Then the files below, the longest measured on the CI machine,
// go first, in this order; the rest follow in jest's order. The two race files (50 requests at once,
// the most connections) are apart, so that one run's two workers do not run both at once.
import Sequencer from "@jest/test-sequencer";

const LONGEST_FIRST = [
  "test/integration/embedded-and-cli.test.ts",
  "test/integration/providers/mutations.test.ts",
  "test/integration/cli.test.ts",
  "test/integration/attempts-and-expiry.test.ts",
  "test/db/schema-drift.test.ts",
  "test/browser/demo.test.ts",
  "test/deploy/nginx.test.ts",
  "test/browser/dashboard.test.ts",
  "test/integration/readme-walkthrough.test.ts",
  "test/integration/one-sms-one-challenge.test.ts",
  "test/integration/concurrency.test.ts",
  "test/unit/challenges/sql-literal.test.ts",
  "test/db/migrate.test.ts",
  "test/integration/webhook-fast-path.test.ts",
];

export default class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    if (sorted.some((test) => test.duration != null)) return sorted; // jest's own timings
    const rank = (test) => {
      const at = LONGEST_FIRST.findIndex((file) => test.path.endsWith(`/${file}`));
      return at < 0 ? LONGEST_FIRST.length : at;
    };
    return sorted
      .map((test, index) => ({ test, index }))
      .sort((a, b) => rank(a.test) - rank(b.test) || a.index - b.index)
      .map(({ test }) => test);
  }
}
