// Page templates: escaping, raw markup only where asked, no forgotten placeholder; JSON data blocks.
import { describe, expect, test } from "@jest/globals";
import { CONTENT_SECURITY_POLICY, escapeHtml, jsonForHtml, renderTemplate } from "../../../src/web/web.js";

describe("renderTemplate", () => {
  test("escapes {{text}} and inserts {{{html}}} as given", () => {
    const out = renderTemplate('<p title="{{a}}">{{b.c}}</p>{{{raw}}}', { a: '"><script>x</script>', "b.c": "Tom & Jerry's" }, { raw: "<b>ok</b>" });
    expect(out).toBe('<p title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">Tom &amp; Jerry&#39;s</p><b>ok</b>');
  });

  test("throws on a placeholder without a value, so a missing translation is noticed", () => {
    expect(() => renderTemplate("{{missing}}", {})).toThrow(/missing/);
    expect(() => renderTemplate("{{{missing}}}", { missing: "text is not html" })).toThrow(/missing/);
  });
});

test("escapeHtml escapes the five HTML specials", () => {
  expect(escapeHtml(`<a href="x" class='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; class=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
});

test("jsonForHtml cannot close its <script> element and parses back to the same value", () => {
  const value = { s: "</script><script>alert(1)</script>", line: "\u2028" };
  const json = jsonForHtml(value);
  expect(json).not.toMatch(/<\/?script/i);
  expect(JSON.parse(json)).toEqual(value);
});

test("the Content-Security-Policy allows scripts and styles from this origin only, and no framing", () => {
  expect(CONTENT_SECURITY_POLICY.split("; ")).toEqual(
    expect.arrayContaining(["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]),
  );
  expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*|https?:/);
});
