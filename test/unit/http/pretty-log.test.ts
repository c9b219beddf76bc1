// Log lines on a terminal: readable text, multi-line messages kept as lines; JSON elsewhere.
import { describe, expect, test } from "@jest/globals";
import { createLogger } from "../../../src/http/logger.js";
import { formatLogLine, prettyDestination } from "../../../src/http/pretty-log.js";

describe("formatLogLine", () => {
  test("time, level, message and the remaining fields; pid, hostname and service left out", () => {
    const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 12, 4, 5), pid: 1, hostname: "h", service: "reverse-otp", msg: "webhook refused", provider: "twilio", reason: "no match here" });
    expect(formatLogLine(line)).toBe('12:04:05 WARN  webhook refused  provider=twilio reason="no match here"\n');
  });

  test("a line that is not JSON passes unchanged", () => {
    expect(formatLogLine("plain text")).toBe("plain text\n");
  });

  test("an error shows its message and stack on the following lines", () => {
    const line = JSON.stringify({ level: 50, time: 0, msg: "unexpected error", err: { message: "boom", stack: "Error: boom\n    at x" } });
    expect(formatLogLine(line)).toBe('00:00:00 ERROR unexpected error  err=boom\nError: boom\n    at x\n');
  });
});

describe("a logger writing to a terminal", () => {
  test("the start-up hint reads as lines, not as one JSON string with \\n, and redaction still applies", () => {
    let out = "";
    const logger = createLogger("info", prettyDestination({ write: (text: string) => void (out += text) }, false));
    logger.info("No app yet. Create one:\n  npm run --silent cli -- apps create --name \"My app\"");
    logger.info({ phone: "+33612345678" }, "with a phone");
    const lines = out.split("\n");
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d INFO  No app yet\. Create one:$/);
    expect(lines[1]).toBe('  npm run --silent cli -- apps create --name "My app"');
    expect(out).not.toContain("\\n");
    expect(out).not.toContain("+33612345678");
    expect(out).toContain("phone=[redacted]");
  });
});
