// docs/errors.md and the code registry must tell the same story.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "@jest/globals";
import { problemType } from "../../src/http/problem.js";
import { ERROR_CODES, type ErrorCode } from "../../src/shared/errors.js";
import { renderMarkdown } from "../../src/web/markdown.js";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
const sections = new Map(
  [...doc.matchAll(/^## ([A-Z_]+)\n\n\*\*(\d{3})\.\*\*/gm)].map((m) => [m[1]!, Number(m[2])] as const),
);

describe("docs/errors.md", () => {
  test.each(Object.entries(ERROR_CODES))("documents %s with its status", (code, { status }) => {
    expect(sections.get(code)).toBe(status);
  });

  test("documents no code that the registry does not have", () => {
    expect([...sections.keys()].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });

  test("problem types link to the code's section anchor", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const anchor = problemType(code).split("#")[1];
      expect(anchor).toBe(code.toLowerCase().replace(/_/g, "-"));
    }
  });
});

describe("docs/errors.md as the page /docs/errors", () => {
  const { html, title } = renderMarkdown(doc);

  test.each(Object.keys(ERROR_CODES))("%s has a section whose id is the anchor of its problem type", (code) => {
    const anchor = problemType(code as ErrorCode).split("#")[1]!;
    expect(html).toContain(`<h2 id="${anchor}">${code} <a class="anchor" href="#${anchor}"`);
  });

  test("the page has the document's title, its code blocks and links, and no raw Markdown markers", () => {
    expect(title).toBe("Error codes");
    expect(html).toContain('<pre><code class="language-json">{\n  &quot;type&quot;');
    expect(html).toContain('<a href="https://www.rfc-editor.org/rfc/rfc9457">RFC 9457</a>');
    expect(html).not.toMatch(/^#|\*\*|```/m);
  });
});

describe("renderMarkdown", () => {
  test("escapes HTML and refuses javascript: links", () => {
    const { html } = renderMarkdown("A <script>x</script> and [y](javascript:alert(1)) and `<b>`");
    expect(html).toBe("<p>A &lt;script&gt;x&lt;/script&gt; and [y](javascript:alert(1)) and <code>&lt;b&gt;</code></p>");
  });

  test("lists with continued lines, and headings get anchors", () => {
    expect(renderMarkdown("- one\n  more\n- two\n\n### Key `rotation`").html).toBe(
      '<ul><li>one more</li><li>two</li></ul>\n<h3 id="key-rotation">Key <code>rotation</code> <a class="anchor" href="#key-rotation" aria-label="Link to this section">#</a></h3>',
    );
  });
});
