// Log lines for people: when the service's standard output is a terminal, each pino JSON line is
// written as "12:04:05 INFO  message  key=value …", with multi-line messages (the start-up hints)
// kept on their own lines. Elsewhere (files, journald, log collectors) the JSON lines go out as they are.
// The fields are printed after pino's redaction, so nothing hidden there shows up here.
import type { DestinationStream } from "pino";

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const COLOURS: Record<number, string> = { 10: "90", 20: "90", 30: "32", 40: "33", 50: "31", 60: "31" };
/** Fields every line has, or that the line itself shows. */
const HIDDEN = new Set(["level", "time", "pid", "hostname", "msg", "service"]);

function formatValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** One JSON log line as text for a terminal; a line that is not pino's JSON passes unchanged. */
export function formatLogLine(line: string, colour = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : `${line}\n`;
  }
  const level = typeof entry.level === "number" ? entry.level : 30;
  const time = typeof entry.time === "number" ? new Date(entry.time).toISOString().slice(11, 19) : "";
  const name = (LEVELS[level] ?? String(level)).padEnd(5);
  const label = colour ? `\u001b[${COLOURS[level] ?? "0"}m${name}\u001b[0m` : name;
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => {
      if (key === "err" && value && typeof value === "object") {
        const err = value as { message?: unknown; stack?: unknown };
        return `err=${formatValue(err.message ?? "")}${typeof err.stack === "string" ? `\n${err.stack}` : ""}`;
      }
      return `${key}=${formatValue(value)}`;
    });
  const message = typeof entry.msg === "string" ? entry.msg : "";
  return `${time} ${label} ${message}${fields.length > 0 ? `  ${fields.join(" ")}` : ""}\n`;
}

/** A pino destination that writes formatted lines to `out` (a terminal). */
export function prettyDestination(out: { write(text: string): unknown }, colour = true): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split("\n")) if (line.length > 0) out.write(formatLogLine(line, colour));
    },
  };
}
