// The README and the pages of docs/: short, task first, every variable documented with the config
// module's own description, and every link between them resolving.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "@jest/globals";
import { CONFIG_KEYS } from "../../src/config.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const readme = read("README.md");
const configuration = read("docs/configuration.md");

describe("README.md", () => {
  test("is under 15,000 bytes", () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(15_000);
  });

  test("shows the two commands first, then walk-throughs on both databases", () => {
    const commands = readme.indexOf("npm ci && npm start");
    expect(commands).toBeGreaterThan(0);
    expect(readme).toContain("npm test ");
    const markers = ["<!-- walkthrough: embedded -->", "<!-- walkthrough: postgresql -->", "<!-- walkthrough: common -->"].map((m) => readme.indexOf(m));
    expect(markers.every((i) => i > commands)).toBe(true);
  });

  test("the walk-throughs keep their files out of the repository, and the embedded one creates the app before starting the service", () => {
    const embedded = readme.slice(readme.indexOf("<!-- walkthrough: embedded -->"), readme.indexOf("<!-- walkthrough: postgresql -->"));
    expect(embedded.indexOf("apps create")).toBeLessThan(embedded.indexOf("npm start"));
    expect(readme).not.toMatch(/> app\.json|tee challenge\.json|\.\/app\.json/);
    const postgres = readme.slice(readme.indexOf("<!-- walkthrough: postgresql -->"), readme.indexOf("<!-- walkthrough: common -->"));
    for (const name of ["DATABASE_URL", "HASH_KEY", "GENERIC_WEBHOOK_SECRET", "DEMO_ENABLED"]) expect(postgres).toContain(`export ${name}=`);
  });

  test("refers to nothing outside the repository's own files", () => {
    for (const file of ["README.md", ...markdownFiles("docs")]) expect({ file, outside: /shared\/reference|\.\.\/shared\//.test(read(file)) }).toEqual({ file, outside: false });
  });
});

describe("docs/configuration.md", () => {
  test.each(Object.entries(CONFIG_KEYS))("documents %s with the config module's description", (key, { description }) => {
    expect(configuration).toContain(`| \`${key}\` | ${description} |`);
  });

  test("documents no variable that the config module does not have", () => {
    const table = configuration.slice(configuration.indexOf("## Every variable"));
    const documented = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
    expect(documented.filter((k) => !(k in CONFIG_KEYS))).toEqual([]);
  });

  test("the README's summary names only real variables", () => {
    const summary = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## API"));
    const named = [...summary.matchAll(/`([A-Z][A-Z0-9_]{2,})`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(8);
    expect(named.filter((k) => !(k in CONFIG_KEYS))).toEqual([]);
  });
});

function markdownFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(rel);
    return entry.name.endsWith(".md") ? [rel] : [];
  });
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

function anchorsOf(file: string): Set<string> {
  return new Set([...read(file).matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!)));
}

describe("links between the README and docs/", () => {
  const files = ["README.md", ...markdownFiles("docs"), "clients/typescript/README.md"];
  const links = files.flatMap((file) =>
    [...read(file).matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((href) => !/^[a-z]+:/.test(href))
      .map((href) => ({ file, href })),
  );

  test("there are links to check", () => {
    expect(links.length).toBeGreaterThan(30);
  });

  test.each(links.map((l) => [l.file, l.href] as const))("%s → %s resolves", (file, href) => {
    const [target = "", anchor] = href.split("#");
    const resolved = target === "" ? file : path.normalize(path.join(path.dirname(file), target));
    expect({ href, exists: existsSync(path.join(ROOT, resolved)) }).toEqual({ href, exists: true });
    if (anchor && resolved.endsWith(".md")) expect({ href, anchor: anchorsOf(resolved).has(anchor) }).toEqual({ href, anchor: true });
    if (!anchor && target.endsWith("/")) expect(statSync(path.join(ROOT, resolved)).isDirectory()).toBe(true);
  });
});
