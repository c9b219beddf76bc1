// A small Markdown renderer for the project's own reference pages (docs/errors.md, served at
// /docs/errors): headings with anchors, paragraphs, lists, fenced code, inline code, bold and links.
// It renders only what those files use, escapes everything else as text, and never passes HTML
// through, so a page is exactly as safe as its Markdown is plain.
import { escapeHtml } from "./web.js";

/** The anchor of a heading: `INVALID_PHONE` → `invalid-phone`, the same rule as problem `type` URLs. */
export function headingAnchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[`*]/g, "")
    .replace(/[_\s]+/g, "-")
    .replace(/[^a-z0-9-]/g, "")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
}

/** Inline Markdown: `code`, **bold**, [text](url) with http(s), relative or #anchor links only. */
export function renderInline(text: string): string {
  const parts = text.split(/(`[^`]+`)/);
  return parts
    .map((part) => {
      if (part.startsWith("`") && part.endsWith("`") && part.length > 1) return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
      return escapeHtml(part)
        .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
        .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (whole, label: string, href: string) =>
          /^(https?:\/\/|\/|#|\.{0,2}\/?[\w.-])/.test(href) && !/^\s*javascript:/i.test(href) ? `<a href="${href}">${label}</a>` : whole,
        );
    })
    .join("");
}

/** Renders a Markdown document; headings of level 2 and 3 get ids (see headingAnchor). */
export function renderMarkdown(markdown: string): { html: string; title: string } {
  const lines = markdown.replace(/\r\n/g, "\n").split("\n");
  const out: string[] = [];
  let title = "";
  let paragraph: string[] = [];
  let list: string[] | undefined;
  const flush = () => {
    if (paragraph.length > 0) out.push(`<p>${renderInline(paragraph.join(" "))}</p>`);
    paragraph = [];
    if (list) out.push(`<ul>${list.map((item) => `<li>${renderInline(item)}</li>`).join("")}</ul>`);
    list = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^```(\w*)\s*$/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) code.push(lines[i]!);
      out.push(`<pre><code${fence[1] ? ` class="language-${fence[1]}"` : ""}>${escapeHtml(code.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const level = heading[1]!.length;
      const text = heading[2]!.trim();
      if (level === 1) {
        title ||= text.replace(/`/g, "");
        out.push(`<h1>${renderInline(text)}</h1>`);
      } else {
        const id = headingAnchor(text);
        out.push(`<h${level} id="${id}">${renderInline(text)} <a class="anchor" href="#${id}" aria-label="Link to this section">#</a></h${level}>`);
      }
      continue;
    }
    const item = /^[-*]\s+(.*)$/.exec(line);
    if (item) {
      if (paragraph.length > 0) flush();
      (list ??= []).push(item[1]!);
      continue;
    }
    if (line.trim() === "") {
      flush();
      continue;
    }
    if (list && /^\s+\S/.test(line)) {
      list[list.length - 1] += ` ${line.trim()}`;
      continue;
    }
    paragraph.push(line.trim());
  }
  flush();
  return { html: out.join("\n"), title };
}
