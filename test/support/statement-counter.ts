// Counts the SQL statements a service sends to PostgreSQL, whatever sends them (Prisma, node-postgres,
// prepared statements, the rate limiter), by sitting between the service's connections and the
// server on loopback and reading the frontend messages of the PostgreSQL wire protocol (protocol 3.0,
// https://www.postgresql.org/docs/15/protocol-message-formats.html): a simple Query ('Q') is one
// statement as sent, an Execute ('E') of the extended protocol is one statement run. BEGIN and
// COMMIT of an interactive transaction count as statements (each is a round trip).
import net from "node:net";

export type StatementCounter = {
  /** A connection string to the same database through the counter. */
  url: string;
  /** Statements since the last reset. */
  count(): number;
  /** The statements' texts since the last reset (simple queries, and the text of each Parse). */
  texts(): string[];
  /** The names of the prepared statements bound (run) since the last reset, one per Bind, in order ("" for an unnamed one). */
  executions(): string[];
  reset(): void;
  close(): Promise<void>;
};

const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;

export async function startStatementCounter(targetUrl: string): Promise<StatementCounter> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname;
  let statements = 0;
  let texts: string[] = [];
  let executions: string[] = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    upstream.pipe(client);

    let buffered = Buffer.alloc(0);
    let started = false; // the start-up message (and an SSL request before it) has no type byte
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (!started) {
          if (buffered.length < 8) return;
          const length = buffered.readInt32BE(0);
          if (buffered.length < length) return;
          const code = buffered.readInt32BE(4);
          if (code !== SSL_REQUEST_CODE && code !== GSSENC_REQUEST_CODE) started = true;
          buffered = buffered.subarray(length);
          continue;
        }
        if (buffered.length < 5) return;
        const type = String.fromCharCode(buffered[0]!);
        const length = buffered.readInt32BE(1);
        if (buffered.length < 1 + length) return;
        const body = buffered.subarray(5, 1 + length);
        if (type === "Q") {
          statements++;
          texts.push(body.toString("utf8").replace(/\0$/, ""));
        } else if (type === "E") {
          statements++;
        } else if (type === "B") {
          // Bind: portal name, NUL, statement name, NUL, …
          const portalEnd = body.indexOf(0);
          executions.push(body.subarray(portalEnd + 1, body.indexOf(0, portalEnd + 1)).toString("utf8"));
        } else if (type === "P") {
          // Parse: statement name, NUL, query text, NUL, parameter types.
          const nameEnd = body.indexOf(0);
          const textEnd = body.indexOf(0, nameEnd + 1);
          texts.push(body.subarray(nameEnd + 1, textEnd).toString("utf8"));
        }
        buffered = buffered.subarray(1 + length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);

  return {
    url: url.toString(),
    count: () => statements,
    texts: () => [...texts],
    executions: () => [...executions],
    reset() {
      statements = 0;
      texts = [];
      executions = [];
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
