// Gives every request and response object the same V8 hidden class ("map").
//
// Express 5 changes the prototype of each request and response (Object.setPrototypeOf) and then
// adds properties (res.locals; its router's req.next, baseUrl, originalUrl, params, route and a
// symbol of its own…). In V8 (Node 20), a property added to an object after its prototype was
// changed gives that object a map and a descriptor array of its own: about 1.9 kB per
// request/response pair that every waiting long-poll keeps (seen in a heap snapshot with 5,000
// waiters: 13,584 descriptor arrays, 10 MB). Adding those properties before Express changes the
// prototype keeps one shared map each for requests and responses (test/unit/http/stable-shapes.test.ts
// checks it on a real Express app); later assignments only overwrite them.
import { createRequire } from "node:module";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

/** The router's own property key (router/lib/symbols.js, not exported); none if it moved. */
function routerSymbols(): symbol[] {
  try {
    const fromExpress = createRequire(createRequire(import.meta.url).resolve("express"));
    const { matchedRoute } = fromExpress("router/lib/symbols.js") as { matchedRoute?: unknown };
    return typeof matchedRoute === "symbol" ? [matchedRoute] : [];
  } catch {
    return [];
  }
}

export function withStableShapes(handler: (req: IncomingMessage, res: ServerResponse) => void): RequestListener {
  const symbols = routerSymbols();
  return (req, res) => {
    const r = req as IncomingMessage & Record<string | symbol, unknown>;
    // What Express (app.handle), its router, body parsers and our middlewares add, in that order.
    r.res = res;
    r.next = undefined;
    r.baseUrl = "";
    r.originalUrl = req.url;
    r._parsedUrl = undefined;
    r.params = {};
    r.route = undefined;
    for (const s of symbols) r[s] = undefined;
    r.body = undefined;
    r.id = undefined;
    r.principal = undefined;
    (res as ServerResponse & { locals?: unknown }).locals = Object.create(null); // res.req: set by Node already
    handler(req, res);
  };
}
