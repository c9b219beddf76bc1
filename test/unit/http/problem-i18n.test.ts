// Problem details in the client's language: negotiation, and the words per code, reason and field.
import { describe, expect, test } from "@jest/globals";
import { localizedFieldMessage, localizeProblem, negotiateLocale } from "../../../src/http/problem-i18n.js";
import { parsePhone } from "../../../src/challenges/phone.js";
import { ERROR_CODES, type ErrorCode } from "../../../src/shared/errors.js";

describe("negotiateLocale", () => {
  test.each([
    [undefined, "en"],
    ["", "en"],
    ["de", "de"],
    ["de-DE,de;q=0.9,en;q=0.8", "de"],
    ["fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"],
    ["en-US,en;q=0.9,fr;q=0.8", "en"],
    ["es-ES,es;q=0.9", "en"],
    ["es, fr;q=0.4", "fr"],
    ["de;q=0.5, fr;q=0.8", "fr"],
    ["de;q=0, fr;q=0.1", "fr"],
    ["de;q=abc, fr;q=0.1", "fr"],
    ["*", "en"],
    ["x".repeat(5000), "en"],
  ])("%j → %s", (header, locale) => {
    expect(negotiateLocale(header)).toBe(locale);
  });
});

describe("localizeProblem", () => {
  test("English keeps the service's own words", () => {
    const problem = { code: "NOT_FOUND" as const, detail: "No such challenge" };
    expect(localizeProblem(problem, "en")).toEqual({ detail: "No such challenge" });
  });

  test.each(["de", "fr"] as const)("every code has its own %s detail, different from the English title", (locale) => {
    const details = new Set<string>();
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const { detail } = localizeProblem({ code, detail: ERROR_CODES[code].title }, locale);
      expect(detail).not.toBe(ERROR_CODES[code].title);
      details.add(detail);
    }
    expect(details.size).toBe(Object.keys(ERROR_CODES).length);
  });

  test("a fixed-line number: the detail names the line type, and the phone's field message is that same sentence", () => {
    const parsed = parsePhone("+33 1 42 68 53 00", {});
    expect(parsed).toMatchObject({ ok: false, reason: "not_mobile", lineType: "FIXED_LINE" });
    if (parsed.ok) throw new Error("parsed");
    const problem = { code: "PHONE_NOT_MOBILE" as const, detail: parsed.detail, reason: parsed.reason, lineType: parsed.lineType, errors: [{ field: "phone", message: parsed.detail }] };
    expect(localizeProblem(problem, "de")).toEqual({
      detail: "Das ist eine Festnetznummer, die keine SMS senden kann; bitte eine Mobilfunknummer verwenden.",
      errors: [{ field: "phone", message: "Das ist eine Festnetznummer, die keine SMS senden kann; bitte eine Mobilfunknummer verwenden." }],
    });
    expect(localizeProblem(problem, "fr").detail).toBe("C'est un numéro de ligne fixe, qui ne peut pas envoyer de SMS ; utilisez un numéro de mobile.");
  });

  test("a reason refines the detail; an unknown reason falls back to the code's", () => {
    expect(localizeProblem({ code: "INVALID_PHONE", detail: "x", reason: "too_short" }, "fr").detail).toBe("Le numéro de téléphone est trop court.");
    expect(localizeProblem({ code: "INVALID_PHONE", detail: "x", reason: "something_new" }, "fr").detail).toBe("Ce n'est pas un numéro de téléphone valide.");
  });
});

describe("localizedFieldMessage", () => {
  test.each([
    ["required", "erforderlich", "obligatoire"],
    ['Invalid option: expected one of "signup"|"login"', 'muss einer dieser Werte sein: "signup"|"login"', 'doit être l\'une de ces valeurs : "signup"|"login"'],
    ["Too big: expected string to have <=64 characters", "darf höchstens 64 Zeichen haben", "doit avoir au plus 64 caractères"],
    ["must be a whole number of seconds from 0 to 30", "muss eine ganze Zahl von Sekunden zwischen 0 und 30 sein", "doit être un nombre entier de secondes entre 0 et 30"],
  ])("%j", (english, german, french) => {
    expect(localizedFieldMessage(english, "en")).toBe(english);
    expect(localizedFieldMessage(english, "de")).toBe(german);
    expect(localizedFieldMessage(english, "fr")).toBe(french);
  });

  test("a message the table does not know stays in English rather than being guessed", () => {
    expect(localizedFieldMessage("some new rule", "de")).toBe("some new rule");
  });
});
