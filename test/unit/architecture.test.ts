// Who may write what (docs/architecture.md), checked on the source: only the challenges feature
// writes `challenges` and `phone_failures`; only repository and database modules import the
// generated Prisma client; other features read apps and numbers through the app directory, not
// the apps repository.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

const files = sourceFiles(SRC).map((file) => ({ name: path.relative(SRC, file).split(path.sep).join("/"), text: readFileSync(file, "utf8") }));

/** Prisma writes to the two models, and SQL that writes to the two tables. */
const CHALLENGE_WRITES = [
  /\.(challenge|phoneFailure)\.(create|createMany|createManyAndReturn|update|updateMany|updateManyAndReturn|upsert|delete|deleteMany)\b/,
  /\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?(challenges|phone_failures)\b/i,
];

describe("who may write what", () => {
  it("finds the source", () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((f) => f.name === "challenges/challenge-repository.ts")).toBe(true);
  });

  it("writes to challenges and phone_failures only in src/challenges/", () => {
    const writers = files.filter((f) => CHALLENGE_WRITES.some((pattern) => pattern.test(f.text))).map((f) => f.name);
    expect(writers.length).toBeGreaterThan(0);
    expect(writers.filter((name) => !name.startsWith("challenges/"))).toEqual([]);
  });

  it("imports the generated Prisma client only in repository and database modules", () => {
    const importers = files.filter((f) => /from "[./]*generated\/prisma\//.test(f.text)).map((f) => f.name);
    expect(importers.filter((name) => !/(-repository|^db\/database)\.ts$/.test(name))).toEqual([]);
  });

  it("gives other features the apps repository only through the app directory and service", () => {
    const users = files.filter((f) => /from "[./]*apps\/app-repository\.js"/.test(f.text)).map((f) => f.name);
    expect(users.filter((name) => !name.startsWith("apps/") && name !== "runtime.ts")).toEqual([]);
  });
});
