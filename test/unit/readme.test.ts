// The README's configuration table is the config module's descriptions, key for key.
import { readFileSync } from "node:fs";
import { expect, test } from "@jest/globals";
import { CONFIG_KEYS, OUTBOUND_CONFIG_KEYS } from "../../src/config.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const sendingDoc = readFileSync(new URL("../../docs/sending.md", import.meta.url), "utf8");
const isOutbound = (key: string) => (OUTBOUND_CONFIG_KEYS as string[]).includes(key);

test.each(Object.entries(CONFIG_KEYS).filter(([key]) => !isOutbound(key)))("the README documents %s with its description", (key, { description }) => {
  expect(readme).toContain(`| \`${key}\` | ${description} |`);
});

// The classic direction's keys: docs/sending.md holds their rows until the README takes them in.
test.each(Object.entries(CONFIG_KEYS).filter(([key]) => isOutbound(key)))("docs/sending.md documents %s with its description", (key, { description }) => {
  expect(readme.includes(`| \`${key}\` | ${description} |`) || sendingDoc.includes(`| \`${key}\` | ${description} |`)).toBe(true);
});

test("the README shows the two commands", () => {
  expect(readme).toContain("npm ci && npm start");
  expect(readme).toContain("npm test");
});
