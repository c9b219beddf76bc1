// The demo page at `/` and the routes it calls under /demo/, mounted only when DEMO_ENABLED. The
// page never sees an API key: these routes act for it with the demo app's publishable key, kept
// on the server (see demo-service.ts).
import express, { Router } from "express";
import { getCountries, getCountryCallingCode, getExampleNumber } from "libphonenumber-js/max";
import mobileExamples from "libphonenumber-js/mobile/examples";
import { z } from "zod";
import { createChallengeBody } from "../challenges/challenge-routes.js";
import { checkBody } from "../challenges/challenge-schemas.js";
import type { CreateChallengeInput } from "../challenges/challenge-service.js";
import { PURPOSES, SUPPORTED_LOCALES, type Locale } from "../challenges/sms-text.js";
import { pollTokenOf } from "../http/auth.js";
import { parseWith, requireContentType } from "../http/validation.js";
import { escapeHtml, jsonForHtml, readTemplate, renderTemplate, sendPage } from "../web/web.js";
import type { DemoService } from "./demo-service.js";
import { DEMO_STRINGS, LANGUAGE_NAMES, pickDefaultCountry, pickPageLanguage, type DemoStrings } from "./demo-strings.js";

const simulateBody = z.strictObject({
  id: z.string().max(64),
  ticket: z.string().min(1).max(4096),
});

const demoCheckBody = simulateBody.extend(checkBody.shape);

/** `{ a: { b: "x" } }` → `{ "a.b": "x" }`, for the template's placeholders. */
function flatten(value: object, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === "string") out[`${prefix}${key}`] = v;
    else if (v && typeof v === "object") Object.assign(out, flatten(v as object, `${prefix}${key}.`));
  }
  return out;
}

const COUNTRIES = getCountries();
const KNOWN_COUNTRIES = new Set<string>(COUNTRIES);

type Country = { code: string; name: string; label: string; example: string };

/**
 * Countries with their calling codes, named and sorted in the page's language, each with an
 * example mobile number in its national format: the phone hint cites the selected country's, so an
 * en-US browser that starts on the United States is not told about a UK number.
 */
const countryListCache = new Map<Locale, Country[]>();
function countryList(language: Locale): Country[] {
  let list = countryListCache.get(language);
  if (!list) {
    const names = new Intl.DisplayNames([language], { type: "region", fallback: "code" });
    const collator = new Intl.Collator(language);
    list = COUNTRIES.map((code) => {
      const name = names.of(code) ?? code;
      const example = getExampleNumber(code, mobileExamples)?.formatNational() ?? "";
      return { code, name, label: `${name} (+${getCountryCallingCode(code)})`, example };
    }).sort((a, b) => collator.compare(a.label, b.label));
    countryListCache.set(language, list);
  }
  return list;
}

/** The phone hint for a country (`{example}` and `{country}` of DemoStrings.phoneHint filled in). */
export function phoneHintFor(template: string, country: Pick<Country, "name" | "example">): string {
  return template.replace("{example}", country.example).replace("{country}", country.name);
}

const option = (value: string, label: string, selected: boolean, data: Record<string, string> = {}) =>
  `<option value="${escapeHtml(value)}"${Object.entries(data)
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join("")}${selected ? " selected" : ""}>${escapeHtml(label)}</option>`;

/** The strings demo.js reads (the rest of the wording is in the HTML already). */
function scriptStrings(s: DemoStrings) {
  const { submit, creating, status, simulate, simulating, simulated, errorPrefix, networkError, phoneHint } = s;
  const { resultHeading, classicHeading, fallback, fallingBack, waitingForSms, smsNotShown, check, checking, attemptsLeft, noAttemptsLeft, classicPending } = s;
  const classic = { resultHeading, classicHeading, fallback, fallingBack, waitingForSms, smsNotShown, check, checking, attemptsLeft, noAttemptsLeft, classicPending };
  return { submit, creating, status, simulate, simulating, simulated, errorPrefix, networkError, phoneHint, ...classic };
}

export function demoRoutes(deps: { demo: DemoService }): Router {
  const router = Router();
  const template = readTemplate("demo.html");
  const json = express.json({ limit: "16kb", strict: true });

  router.get("/", (req, res) => {
    const acceptLanguage = req.get("accept-language");
    const language = pickPageLanguage(req.query.lang, acceptLanguage);
    const s = DEMO_STRINGS[language];
    const country = pickDefaultCountry(language, acceptLanguage, (c) => KNOWN_COUNTRIES.has(c));
    const countries = countryList(language);
    const selected = countries.find((c) => c.code === country) ?? countries[0]!;
    const html = renderTemplate(template, { lang: language, ...flatten(s), phoneHint: phoneHintFor(s.phoneHint, selected) }, {
      languageLinks: SUPPORTED_LOCALES.map(
        (l) =>
          `<li><a href="/?lang=${l}" lang="${l}" hreflang="${l}"${l === language ? ' aria-current="true"' : ""}>${escapeHtml(LANGUAGE_NAMES[l])}</a></li>`,
      ).join(""),
      countryOptions: countries.map((c) => option(c.code, c.label, c.code === selected.code, { example: c.example, name: c.name })).join(""),
      purposeOptions: PURPOSES.map((p) => option(p, s.purposes[p], p === "login")).join(""),
      localeOptions: SUPPORTED_LOCALES.map((l) => option(l, LANGUAGE_NAMES[l], l === language)).join(""),
      stringsJson: jsonForHtml(scriptStrings(s)),
      // The classic path is offered while the demo number's SMS are kept for the page (demo-outbox.ts).
      fallbackHidden: deps.demo.classic ? "" : " hidden",
    });
    res.setHeader("Vary", "Accept-Language");
    sendPage(res, html);
  });

  const api = Router();
  api.use((_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });

  api.post("/challenges", requireContentType("application/json"), json, async (req, res) => {
    const body = parseWith(createChallengeBody, req.body ?? {}) as CreateChallengeInput;
    res.status(201).json(await deps.demo.create(body, req.ip));
  });

  api.post("/simulate-sms", requireContentType("application/json"), json, async (req, res) => {
    const body = parseWith(simulateBody, req.body ?? {});
    res.json(await deps.demo.simulateSms(body.id, pollTokenOf(req), body.ticket));
  });

  // "Can't send an SMS? Get a code instead": fall back to sms, read the SMS the demo outbox kept,
  // type the code. Each acts with the challenge's poll token and ticket, like "Simulate the SMS".
  api.post("/fallback", requireContentType("application/json"), json, async (req, res) => {
    const body = parseWith(simulateBody, req.body ?? {});
    res.json(await deps.demo.fallback(body.id, pollTokenOf(req), body.ticket));
  });

  api.post("/message", requireContentType("application/json"), json, async (req, res) => {
    const body = parseWith(simulateBody, req.body ?? {});
    res.json(await deps.demo.message(body.id, pollTokenOf(req), body.ticket));
  });

  api.post("/check", requireContentType("application/json"), json, async (req, res) => {
    const body = parseWith(demoCheckBody, req.body ?? {});
    res.json(await deps.demo.check(body.id, pollTokenOf(req), body.ticket, body.code, req.ip));
  });

  router.use("/demo", api);
  return router;
}
