// The README's walk-throughs as runnable scripts: the `sh` blocks that follow the README's
// `<!-- walkthrough: … -->` markers, run with bash in a copy of the repository as a clean clone has
// it. Used by test/integration/readme-walkthrough.test.ts and test/deploy/nginx.test.ts.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CONFIG_KEYS } from "../../src/config.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type WalkthroughPart = "embedded" | "postgresql" | "common";

/** The shell block after `<!-- walkthrough: <part> -->` in README.md, as written. */
export function readmeBlock(part: WalkthroughPart, readme = readFileSync(path.join(ROOT, "README.md"), "utf8")): string {
  const marker = `<!-- walkthrough: ${part} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no "${marker}"`);
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(readme.slice(at + marker.length));
  if (!block || readme.slice(at + marker.length, at + marker.length + block.index).trim() !== "") {
    throw new Error(`"${marker}" in README.md is not followed by a sh block`);
  }
  return block[1]!;
}

/**
 * A copy of the repository's files as a clean clone has them: the tracked files and the untracked
 * ones git does not ignore, so no `.data/`, `dist/` or `test-artifacts/`. The installed
 * `node_modules` and the generated Prisma client (`npm ci` makes both) are linked, not copied.
 */
export function cleanCopy(): { dir: string; remove(): void } {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "rotp-clone-"));
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    try {
      mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
      copyFileSync(path.join(ROOT, file), path.join(dir, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error; // deleted, not yet committed
    }
  }
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  symlinkSync(path.join(ROOT, "src/generated"), path.join(dir, "src/generated"), "dir");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = (server.address() as net.AddressInfo);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The walk-through with the only changes a test needs: the service's URL (`127.0.0.1:3000`) is
 * `baseHostPort`, and the PostgreSQL one names the test's own database.
 */
export function walkthroughScript(parts: WalkthroughPart[], options: { baseHostPort: string; databaseUrl?: string }): string {
  let script = parts.map((p) => readmeBlock(p)).join("\n");
  script = script.replaceAll("127.0.0.1:3000", options.baseHostPort);
  if (options.databaseUrl) {
    const line = /^export DATABASE_URL=\S+/m;
    if (!line.test(script)) throw new Error("the PostgreSQL walk-through sets no DATABASE_URL");
    script = script.replace(line, `export DATABASE_URL=${options.databaseUrl}`);
  }
  return script;
}

export type Ran = { code: number | null; stdout: string; stderr: string };

/**
 * Runs `script` with bash in `cwd`, stopping at the first failing command (`set -eo pipefail`, as a
 * reader would stop), in its own process group, killed after `timeoutMs`. The environment has none
 * of the service's variables but those given (a developer's own DATABASE_URL must not leak in).
 */
export function runBash(script: string, options: { cwd: string; env?: Record<string, string>; timeoutMs: number }): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(CONFIG_KEYS)) delete env[key];
  delete env.NODE_OPTIONS; // jest's --experimental-vm-modules
  const child = spawn("bash", ["-c", `set -eo pipefail\n${script}`], {
    cwd: options.cwd,
    env: { ...env, ...options.env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const kill = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
  };
  const timer = setTimeout(kill, options.timeoutMs);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      kill(); // anything the script left running (a service it did not stop)
      resolve({ code, stdout, stderr });
    });
  });
}

/** What the walk-through printed, step by step, parsed: the proof that each step did its job. */
export function walkthroughResults(stdout: string) {
  const lines = stdout.split("\n");
  const appStart = stdout.indexOf("{\n");
  const appEnd = stdout.indexOf("\n}\n", appStart);
  const [challenge, ...views] = lines.filter((l) => l.startsWith('{"id":"chl_')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    /** `cat "$W/app.json"`: the app and its keys. */
    app: appStart >= 0 && appEnd > appStart ? (JSON.parse(stdout.slice(appStart, appEnd + 2)) as Record<string, unknown>) : undefined,
    /** The answer to POST /v1/challenges. */
    challenge,
    /** simulate-sms's output line. */
    simulated: lines.find((l) => l.startsWith('200 {"results"')),
    /** The answers to the reads and the consume that follow. */
    views,
  };
}
