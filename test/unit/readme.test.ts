// The README's configuration table is the config module's descriptions, key for key.
import { readFileSync } from "node:fs";
import { expect, test } from "@jest/globals";
import { CONFIG_KEYS } from "../../src/config.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

test.each(Object.entries(CONFIG_KEYS))("the README documents %s with its description", (key, { description }) => {
  expect(readme).toContain(`| \`${key}\` | ${description} |`);
});

test("the README shows the two commands", () => {
  expect(readme).toContain("npm ci && npm start");
  expect(readme).toContain("npm test");
});
