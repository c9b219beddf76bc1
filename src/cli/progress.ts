// Progress of long work on stderr. On a terminal one line is rewritten in place; elsewhere (a log
// file, CI) whole lines are printed, at most one every few seconds per task plus its last one.
import type { CliContext } from "./context.js";

const LINE_INTERVAL_MS = 2_000;

export function createProgress(ctx: Pick<CliContext, "stderr" | "isStderrTty" | "clock">) {
  const lastLineAt = new Map<string, number>();
  let lineOpen = false;
  return {
    /** `done` of `total` of the task `label`. */
    update(label: string, done: number, total: number) {
      const text = `${label}: ${done} of ${total}`;
      if (ctx.isStderrTty) {
        ctx.stderr(`\r\x1b[2K${text}`);
        lineOpen = true;
        if (done >= total) {
          ctx.stderr("\n");
          lineOpen = false;
        }
        return;
      }
      const now = ctx.clock.now().getTime();
      if (done >= total || now - (lastLineAt.get(label) ?? Number.NEGATIVE_INFINITY) >= LINE_INTERVAL_MS) {
        ctx.stderr(`${text}\n`);
        lastLineAt.set(label, now);
      }
    },
    /** Ends an open terminal line (e.g. when the total was an estimate). */
    end() {
      if (lineOpen) ctx.stderr("\n");
      lineOpen = false;
    },
  };
}
