// Gives every request and response object the same V8 hidden class ("map").
//
// Express 5 changes the prototype of each request and response (Object.setPrototypeOf) and then
// adds properties (res.locals; the router's req.next, baseUrl, originalUrl, params, route…). In V8
// (Node 20), a property added to an object after its prototype was changed gives that object a map
// and a descriptor array of its own: about 1.9 kB per request/response pair that every waiting
// long-poll keeps (seen in a heap snapshot with 5,000 waiters: 13,584 descriptor arrays, 10 MB).
// Adding those properties before Express changes the prototype keeps one shared map instead; later
// assignments only overwrite them.
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

type Seeded = IncomingMessage & Record<string, unknown>;

export function withStableShapes(handler: (req: IncomingMessage, res: ServerResponse) => void): RequestListener {
  return (req, res) => {
    const r = req as Seeded;
    // What Express (app.handle), its router, body parsers and our middlewares add, in that order.
    r.res = res;
    r.next = undefined;
    r.baseUrl = "";
    r.originalUrl = req.url;
    r._parsedUrl = undefined;
    r.params = {};
    r.route = undefined;
    r.body = undefined;
    r.id = undefined;
    r.principal = undefined;
    const s = res as ServerResponse & Record<string, unknown>; // res.req: set by Node already
    s.locals = Object.create(null);
    handler(req, res);
  };
}
