// Embedded mode: one data folder holds the PGlite database and the secrets generated for it.
// One process at a time: PGlite cannot share a folder, so a lock file with our pid guards it.
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { standardWebhooksSecretProblem, textSecretProblem } from "../shared/secret-strength.js";

export class DataDirInUseError extends Error {
  constructor(readonly dataDir: string, readonly pid: number) {
    super(
      `The data folder ${dataDir} is in use by another reverse-otp process (pid ${pid}). ` +
        `Embedded mode allows one process per folder: stop that process, or set DATA_DIR to another folder.`,
    );
    this.name = "DataDirInUseError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the folder's lock; returns a release function. A lock left by a dead process is taken over. */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockPath = path.join(dataDir, "reverse-otp.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(lockPath, "utf8").trim() === String(process.pid)) unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new DataDirInUseError(dataDir, pid);
      unlinkSync(lockPath); // stale: its process is gone
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}

export type EmbeddedSecrets = { hashKey: string; genericWebhookSecret: string };

/**
 * Secrets that embedded mode generates once and keeps in the data folder (mode 0600), so hashes stay
 * valid across restarts: HASH_KEY (384 bits) and a generic-provider `whsec_` secret (256 bits).
 */
export function loadOrCreateSecrets(dataDir: string): { secrets: EmbeddedSecrets; created: boolean } {
  const file = path.join(dataDir, "secrets.json");
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<EmbeddedSecrets>;
    if (typeof parsed.hashKey === "string" && typeof parsed.genericWebhookSecret === "string") {
      // Generated strong; refused if edited into weak ones (the same rules as the variables).
      const weak = [
        ["hashKey", textSecretProblem(parsed.hashKey)],
        ["genericWebhookSecret", standardWebhooksSecretProblem(parsed.genericWebhookSecret)],
      ].filter(([, problem]) => problem !== undefined);
      if (weak.length > 0) {
        throw new Error(
          `${file}: ${weak.map(([name, problem]) => `${name} ${problem}`).join("; ")}. ` +
            "Set HASH_KEY and GENERIC_WEBHOOK_SECRET to strong values instead, or move the file away to generate new ones (existing hashes will no longer match)",
        );
      }
      return { secrets: { hashKey: parsed.hashKey, genericWebhookSecret: parsed.genericWebhookSecret }, created: false };
    }
    throw new Error(`${file} is incomplete; move it away to generate new secrets (existing hashes will no longer match)`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const secrets: EmbeddedSecrets = {
    hashKey: randomBytes(48).toString("base64url"),
    genericWebhookSecret: `whsec_${randomBytes(32).toString("base64")}`,
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return { secrets, created: true };
}
