// One callback POST against a local receiver: what counts as delivered, and that the SSRF guard
// stops a host name that resolves to a private address before any connection is made.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "@jest/globals";
import { sendCallback } from "../../../src/callbacks/callback-sender.js";

type Seen = { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string };
let server: http.Server;
let port: number;
let seen: Seen[] = [];
let connections = 0;
let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      answer(req, res);
    });
  });
  server.on("connection", () => connections++);
  server.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen = [];
  connections = 0;
  answer = (_req, res) => res.writeHead(204).end();
});

const request = (path = "/hook") => ({
  url: `http://127.0.0.1:${port}${path}`,
  headers: { "content-type": "application/json", "webhook-id": "evt_1" },
  body: '{"type":"challenge.verified"}',
});
const relaxed = { allowPrivateNetworks: true, timeoutMs: 5000 };

describe("sendCallback", () => {
  test("posts the body with its headers and a content length; a 2xx is delivered", async () => {
    expect(await sendCallback(request(), relaxed)).toEqual({ ok: true, status: 204 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "POST", url: "/hook", body: '{"type":"challenge.verified"}' });
    expect(seen[0]!.headers).toMatchObject({ "content-type": "application/json", "webhook-id": "evt_1", "content-length": "29" });
  });

  test("a 500 is a failed attempt with the status", async () => {
    answer = (_req, res) => res.writeHead(500).end("boom");
    expect(await sendCallback(request(), relaxed)).toEqual({ ok: false, status: 500, error: "HTTP 500" });
  });

  test("a redirect is not followed", async () => {
    answer = (req, res) => (req.url === "/hook" ? res.writeHead(307, { location: "/elsewhere" }).end() : res.writeHead(200).end());
    const result = await sendCallback(request(), relaxed);
    expect(result).toMatchObject({ ok: false, status: 307 });
    expect(seen.map((s) => s.url)).toEqual(["/hook"]);
  });

  test("a receiver that does not answer in time is a timeout", async () => {
    answer = () => undefined; // never answers
    const result = await sendCallback(request(), { allowPrivateNetworks: true, timeoutMs: 200 });
    expect(result).toEqual({ ok: false, error: "timeout after 200 ms" });
  });

  test("a closed port is a failed attempt with the network error", async () => {
    const closed = http.createServer();
    closed.listen(0, "127.0.0.1");
    await new Promise((r) => closed.once("listening", r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const result = await sendCallback({ ...request(), url: `http://127.0.0.1:${closedPort}/` }, relaxed);
    expect(result).toMatchObject({ ok: false, error: expect.stringContaining("ECONNREFUSED") });
  });

  test("without the private-network flag a loopback URL is refused before any connection", async () => {
    const result = await sendCallback(request(), { allowPrivateNetworks: false, timeoutMs: 5000 });
    expect(result).toMatchObject({ ok: false, error: expect.stringContaining("refused") });
    expect(connections).toBe(0);
  });

  test("a public-looking host name that resolves to loopback is refused before any connection (DNS rebinding)", async () => {
    const resolve = async () => [{ address: "127.0.0.1", family: 4 }];
    const result = await sendCallback(
      { ...request(), url: `https://hooks.example.com:${port}/hook` },
      { allowPrivateNetworks: false, timeoutMs: 5000, resolve },
    );
    expect(result).toMatchObject({ ok: false, error: expect.stringContaining("hooks.example.com resolves to 127.0.0.1") });
    expect(connections).toBe(0);
  });

  test("the connection goes to the address the guarded lookup returned", async () => {
    const resolve = async () => [{ address: "127.0.0.1", family: 4 }];
    const result = await sendCallback({ ...request(), url: `http://hooks.example.com:${port}/hook` }, { ...relaxed, resolve });
    expect(result).toEqual({ ok: true, status: 204 });
    expect(seen[0]!.headers.host).toBe(`hooks.example.com:${port}`);
  });
});
