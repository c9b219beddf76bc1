// GET /openapi.json, and the interactive API reference at GET /docs: Swagger UI from the pinned
// `swagger-ui-dist` package, served by the service itself (no CDN: it works offline and behind
// firewalls), under a Content-Security-Policy that allows this origin only.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Router } from "express";
import { buildOpenApiDocument } from "./openapi.js";

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/** The only files of swagger-ui-dist we serve (nothing else of node_modules is reachable). */
const ASSETS: Readonly<Record<string, string>> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

/**
 * Scripts and styles from this origin only (no inline script: the start-up code is a file of its
 * own), images from here or `data:` (the stylesheet's icons), requests to this origin only (the
 * document, and "Try it out"). Swagger UI's online validator badge is turned off for the same reason.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function openApiRoutes(deps: { publicBaseUrl: string }): Router {
  const router = Router();
  // Built at the first request (tens of milliseconds), then kept: it depends on nothing that changes.
  let document: string | undefined;
  // Behind a proxy that serves the service under a path prefix, PUBLIC_BASE_URL names it.
  const prefix = new URL(deps.publicBaseUrl).pathname.replace(/\/+$/, "");
  const asset = (name: string) => `${prefix}/docs/assets/${name}`;

  const startScript = `"use strict";
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(`${prefix}/openapi.json`)},
    dom_id: "#api-reference",
    deepLinking: true,
    validatorUrl: null,
    queryConfigEnabled: false,
    defaultModelsExpandDepth: 0,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
`;
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reverse-otp API reference</title>
<link rel="stylesheet" href="${asset("swagger-ui.css")}">
<link rel="icon" type="image/png" sizes="32x32" href="${asset("favicon-32x32.png")}">
<link rel="icon" type="image/png" sizes="16x16" href="${asset("favicon-16x16.png")}">
</head>
<body>
<noscript>This page needs JavaScript. The document itself is at <a href="${prefix}/openapi.json">/openapi.json</a>.</noscript>
<div id="api-reference"></div>
<script src="${asset("swagger-ui-bundle.js")}"></script>
<script src="${asset("start.js")}"></script>
</body>
</html>
`;

  router.get("/openapi.json", (_req, res) => {
    // Public and static: other tools (editors, client generators) may read it from their origin.
    res.setHeader("Access-Control-Allow-Origin", "*");
    document ??= JSON.stringify(buildOpenApiDocument({ publicBaseUrl: deps.publicBaseUrl }));
    res.type("application/json; charset=utf-8").send(document);
  });

  router.get("/docs", (_req, res) => {
    res.setHeader("Content-Security-Policy", DOCS_CSP);
    res.setHeader("Referrer-Policy", "no-referrer");
    res.type("text/html; charset=utf-8").send(page);
  });

  router.get("/docs/assets/:file", (req, res, next) => {
    const file = String(req.params.file);
    if (file === "start.js") {
      res.type("text/javascript; charset=utf-8").send(startScript);
      return;
    }
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) return next(); // the service's 404
    res.setHeader("Content-Type", type);
    // The package is pinned: a day of caching is safe, and an upgrade shows within one.
    res.sendFile(join(SWAGGER_UI_DIR, file), { maxAge: "1d", headers: { "Content-Type": type } }, (error) => {
      if (error && !res.headersSent) next(error);
    });
  });

  return router;
}
