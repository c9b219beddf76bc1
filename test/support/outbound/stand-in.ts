// A local stand-in of a provider's sending API on 127.0.0.1: records every request (method, path
// with query, headers, raw body) and answers from a script (status, body, headers), or hangs.
import http from "node:http";
import type { AddressInfo } from "node:net";

export type RecordedRequest = { method: string; path: string; headers: http.IncomingHttpHeaders; body: Buffer };
export type ScriptedAnswer = { status: number; body?: string | object; headers?: Record<string, string> } | "hang";

export type StandIn = Awaited<ReturnType<typeof startStandIn>>;

export async function startStandIn(defaultAnswer: ScriptedAnswer = { status: 200, body: {} }) {
  const requests: RecordedRequest[] = [];
  const script: ScriptedAnswer[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      const answer = script.shift() ?? defaultAnswer;
      if (answer === "hang") {
        hanging.add(res);
        return;
      }
      const body = answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { "content-type": typeof answer.body === "object" ? "application/json" : "text/plain", ...answer.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    /** Queues answers for the next requests (then the default answer). */
    answer: (...answers: ScriptedAnswer[]) => script.push(...answers),
    last: () => requests.at(-1)!,
    /** Forgets recorded requests and queued answers. */
    reset: () => {
      requests.length = 0;
      script.length = 0;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (a network error for the client). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
