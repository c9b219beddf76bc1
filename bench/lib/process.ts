// A server under test in its own process (as in production), with its memory and CPU read from
// /proc: VmRSS (resident now), VmHWM (peak resident), utime + stime (CPU seconds). Memory is in MB
// (10^6 bytes), the unit of the targets.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export type ServerProcess = {
  name: string;
  pid: number;
  baseUrl: string;
  /** Resident memory now and at its peak, in MB (10^6 bytes). */
  memory(): { rssMB: number; peakMB: number };
  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
};

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) that process `pid` used so far, from /proc (throws when it cannot be read). */
export function processCpuSeconds(pid: number): number {
  // Fields after the command name (which is in parentheses and may hold spaces).
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
}

function readStatusKiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) : Number.NaN;
}

export async function startServer(options: {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Path answered 200 once the server is ready. */
  readyPath: string;
  /** Extra node options, e.g. --cpu-prof. */
  nodeArgs?: string[];
  cwd?: string;
}): Promise<ServerProcess> {
  const port = await freePort();
  // TypeScript runs through tsx (as `npm start` does); compiled JavaScript (dist/) runs as it is.
  const loader = options.script.endsWith(".ts") ? ["--import", "tsx"] : [];
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loader, options.script], {
    env: { ...process.env, ...options.env, PORT: String(port), HOST: "127.0.0.1", NODE_OPTIONS: "" },
    stdio: ["ignore", "ignore", "inherit"],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  for (let i = 0; i < 600; i++) {
    if (exited) throw new Error(`${options.name} exited during start-up`);
    const ok = await fetch(`${baseUrl}${options.readyPath}`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (i === 599) throw new Error(`${options.name} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    name: options.name,
    pid,
    baseUrl,
    memory: () => ({ rssMB: (readStatusKiB(pid, "VmRSS") * 1024) / 1e6, peakMB: (readStatusKiB(pid, "VmHWM") * 1024) / 1e6 }),
    cpuSeconds: () => processCpuSeconds(pid),
    async stop() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
}
