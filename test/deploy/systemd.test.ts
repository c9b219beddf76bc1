// deploy/reverse-otp.service: systemd's own checker accepts it, and it runs what docs/operations.md
// says (the compiled service, with its environment file and a restart policy).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import { ROOT } from "../support/walkthrough.js";

const ANALYZE = "/usr/bin/systemd-analyze";
const UNIT = path.join(ROOT, "deploy/reverse-otp.service");
const unit = readFileSync(UNIT, "utf8");

/** `Key=value` lines of a section. */
function section(name: string): Map<string, string[]> {
  const body = unit.split(/^\[/m).find((s) => s.startsWith(`${name}]`)) ?? "";
  const keys = new Map<string, string[]>();
  for (const line of body.split("\n").slice(1)) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
  }
  return keys;
}

describe("deploy/reverse-otp.service", () => {
  (existsSync(ANALYZE) ? test : test.skip)("systemd-analyze verify accepts it, without a warning", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rotp-unit-"));
    try {
      const copy = path.join(dir, "reverse-otp.service");
      copyFileSync(UNIT, copy);
      const verified = spawnSync(ANALYZE, ["verify", copy], { encoding: "utf8" });
      expect({ status: verified.status, stderr: verified.stderr.trim(), stdout: verified.stdout.trim() }).toEqual({ status: 0, stderr: "", stdout: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  if (!existsSync(ANALYZE)) test.skip("systemd-analyze is missing (apt-get install systemd): the unit was not verified", () => undefined);

  test("runs the compiled service with its environment file, restarts on failure, and says how it is built", () => {
    const service = section("Service");
    // The same node options as `npm run start:prod` (the heap sizing the benchmark measures).
    const startProd = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts["start:prod"]!;
    expect(startProd).toMatch(/^node (--[\w-]+=\d+ )+dist\/server\.js$/);
    expect(service.get("ExecStart")).toEqual([`/usr/bin/${startProd}`]);
    expect(service.get("EnvironmentFile")).toEqual(["/etc/reverse-otp/reverse-otp.env"]);
    expect(service.get("Restart")).toEqual(["on-failure"]);
    expect(service.get("User")).toEqual(["reverse-otp"]);
    expect(service.get("KillSignal")).toEqual(["SIGTERM"]);
    expect(section("Unit").get("StartLimitBurst")).toEqual(["5"]);
    expect(unit).toContain("npm ci --omit=dev && npm run build");
    // The environment file it names has an example with every variable a production start needs.
    const example = readFileSync(path.join(ROOT, "deploy/reverse-otp.env.example"), "utf8");
    for (const key of ["DATABASE_URL", "HASH_KEY", "PUBLIC_BASE_URL", "TRUST_PROXY"]) expect(example).toMatch(new RegExp(`^${key}=`, "m"));
  });
});
