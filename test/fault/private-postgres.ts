// A PostgreSQL server of the test's own (initdb + pg_ctl on a free port), so fault tests can kill,
// freeze and restart it without touching the shared server. Runs the server as the `postgres`
// system user when started as root (PostgreSQL refuses to run as root).
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

function pgBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(path.join(base, v, "bin", "pg_ctl"))) return path.join(base, v, "bin");
  throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql (install postgresql)");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export type PrivatePostgres = {
  url: string;
  port: number;
  /** The server's log (pg_ctl -l); removed by destroy(). */
  logFile: string;
  /** Asynchronous, so that a server in the same process keeps answering meanwhile. */
  start(): Promise<void>;
  /** `pg_ctl -m immediate stop`: like a crash, no clean shutdown. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT on the postmaster and all its children: a frozen server. */
  freeze(): void;
  thaw(): void;
  destroy(): void;
};

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = pgBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), "rotp-pg-"));
  const data = path.join(dir, "data");
  const port = await freePort();
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (cmd: string, args: string[], allowFailure = false) => {
    const full = asRoot ? ["runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args]] : [path.join(bin, cmd), args];
    const result = spawnSync(full[0] as string, full[1] as string[], { encoding: "utf8" });
    if (result.status !== 0 && !allowFailure) {
      throw new Error(`${cmd} ${args.join(" ")} failed: ${result.stderr || result.stdout}`);
    }
    return result;
  };
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const runAsync = async (cmd: string, args: string[]) => {
    const [file, fileArgs] = asRoot ? ["runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args]] : [path.join(bin, cmd), args];
    await promisify(execFile)(file as string, fileArgs as string[]);
  };
  const pidOf = () => Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  const pg: PrivatePostgres = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    logFile: path.join(dir, "log"),
    start: () => runAsync("pg_ctl", ["-D", data, "-o", options, "-w", "-t", "30", "-l", path.join(dir, "log"), "start"]),
    kill: () => runAsync("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]),
    freeze: () => {
      // The postmaster and every backend: a whole server that stops answering.
      spawnSync("pkill", ["-STOP", "-P", String(pidOf())]);
      process.kill(pidOf(), "SIGSTOP");
    },
    thaw: () => {
      process.kill(pidOf(), "SIGCONT");
      spawnSync("pkill", ["-CONT", "-P", String(pidOf())]);
    },
    destroy: () => {
      try {
        if (existsSync(path.join(data, "postmaster.pid"))) {
          try {
            pg.thaw();
          } catch {
            // not frozen
          }
          run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"], true);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  await pg.start();
  return pg;
}
