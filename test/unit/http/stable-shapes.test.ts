// withStableShapes (src/http/stable-shapes.ts): requests and responses that went through a real
// Express app with a mounted router share one V8 map, which they do not without it.
import { createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import v8 from "node:v8";
import { describe, expect, test } from "@jest/globals";
import express, { type Request, type Response } from "express";
import { withStableShapes } from "../../../src/http/stable-shapes.js";

v8.setFlagsFromString("--allow-natives-syntax");
// V8's own test hook, compiled after the flag is set.
const haveSameMap = new Function("a", "b", "return %HaveSameMap(a, b)") as (a: object, b: object) => boolean;

/** Three long-poll-like GETs through an Express app (mounted router, async handler); their req/res, held open. */
async function heldPairs(wrap: boolean) {
  const held: [Request, Response][] = [];
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.use((req, _res, next) => {
    (req as { id?: string }).id = "request-id";
    next();
  });
  const router = express.Router();
  router.get("/:id", async (req, res) => {
    held.push([req, res]);
  });
  app.use("/v1/challenges", router);
  const server = createServer(wrap ? withStableShapes(app) : app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const clients = [1, 2, 3].map((i) => get({ host: "127.0.0.1", port, path: `/v1/challenges/chl_${i}?waitSeconds=30` }).on("error", () => undefined));
  for (let i = 0; i < 200 && held.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  for (const c of clients) c.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return held;
}

describe("withStableShapes", () => {
  test("requests share one map, and responses one map, through Express", async () => {
    const held = await heldPairs(true);
    expect(held).toHaveLength(3);
    expect(haveSameMap(held[1]![0], held[2]![0])).toBe(true);
    expect(haveSameMap(held[1]![1], held[2]![1])).toBe(true);
    // Express still sees what it set itself.
    expect(held.map(([req]) => [req.params.id, req.baseUrl, req.originalUrl])).toEqual([
      ["chl_1", "/v1/challenges", "/v1/challenges/chl_1?waitSeconds=30"],
      ["chl_2", "/v1/challenges", "/v1/challenges/chl_2?waitSeconds=30"],
      ["chl_3", "/v1/challenges", "/v1/challenges/chl_3?waitSeconds=30"],
    ]);
  });

  test("without it, each request and response gets a map of its own (why it exists)", async () => {
    const held = await heldPairs(false);
    expect(held).toHaveLength(3);
    expect(haveSameMap(held[1]![0], held[2]![0])).toBe(false);
    expect(haveSameMap(held[1]![1], held[2]![1])).toBe(false);
  });
});
