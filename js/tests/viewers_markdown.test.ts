import { afterEach, describe, expect, it } from "vitest";
import { markdownToFragment, MAX_MARKDOWN_CHARS } from "../src/viewers/markdown";
import { cleanupAll, q, show, spec } from "./viewers_fake";

afterEach(cleanupAll);

function render(md: string): HTMLElement {
  const div = document.createElement("div");
  div.append(markdownToFragment(md));
  return div;
}

/** Every attribute value in the tree, lowercased. */
function attrs(root: Element): string[] {
  const out: string[] = [];
  for (const el of [root, ...Array.from(root.querySelectorAll("*"))]) {
    for (const a of Array.from(el.attributes))
      out.push(`${a.name}=${a.value}`.toLowerCase());
  }
  return out;
}

function noHandlers(root: Element): void {
  for (const a of attrs(root)) expect(a).not.toMatch(/^on/);
}

describe("Markdown sanitizing", () => {
  it("renders ordinary Markdown", () => {
    const div = render(
      "# Title\n\nSome *text* and `code`.\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    );
    expect(div.querySelector("h1")?.textContent).toBe("Title");
    expect(div.querySelector("em")?.textContent).toBe("text");
    expect(div.querySelector("code")?.textContent).toBe("code");
    expect(div.querySelectorAll("td")).toHaveLength(2);
  });

  it("drops <script> elements and their content", () => {
    const div = render(
      "hi <script>window.pwned = 1</script>\n\n<script src=https://x.test/a.js></script>",
    );
    expect(div.querySelector("script")).toBeNull();
    expect(div.innerHTML).not.toContain("pwned");
  });

  it("strips event handlers from images and SVG", () => {
    const div = render(
      [
        '<img src=x onerror="alert(1)">',
        '<svg onload="alert(2)"><circle r=1 /></svg>',
        '<p onclick="alert(3)" onmouseover=alert(4)>p</p>',
        "<details open ontoggle=alert(5)>d</details>",
      ].join("\n\n"),
    );
    noHandlers(div);
    expect(div.querySelector("svg")).toBeNull();
    const texts = Array.from(div.querySelectorAll("p")).map((p) => p.textContent);
    expect(texts).toContain("p");
  });

  it("neutralizes javascript: links however they are spelled", () => {
    const sources = [
      "[a](javascript:alert(1))",
      "[b](JaVaScRiPt:alert(1))",
      '<a href="javascript&colon;alert(1)">c</a>',
      '<a href="&#106;avascript:alert(1)">d</a>',
      '<a href="jav&#x09;ascript:alert(1)">e</a>',
      '<a href=" javascript:alert(1)">f</a>',
      '<a href="vbscript:msgbox(1)">g</a>',
      "[h](<javascript:alert(1)>)",
      '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;1">i</a>',
    ];
    for (const md of sources) {
      const div = render(md);
      for (const a of attrs(div)) {
        expect(a).not.toContain("javascript");
        expect(a).not.toContain("vbscript");
      }
      for (const link of Array.from(div.querySelectorAll("a"))) {
        expect(link.hasAttribute("href")).toBe(false);
        expect(link.className).toBe("kfp-link-removed");
        expect(link.title).toContain("Link removed");
      }
    }
  });

  it("removes data: URLs from links but keeps data: images", () => {
    const png = "data:image/png;base64,iVBORw0KGgo=";
    const div = render(
      [
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        `![pic](${png})`,
        '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
        '<img src="data:text/html,<script>">',
      ].join("\n\n"),
    );
    expect(div.querySelector("a")?.hasAttribute("href")).toBe(false);
    const imgs = Array.from(div.querySelectorAll("img"));
    expect(imgs[0].getAttribute("src")).toBe(png);
    expect(imgs.slice(1).every((i) => !i.hasAttribute("src"))).toBe(true);
  });

  it("removes iframes, objects, embeds, forms and styles", () => {
    const div = render(
      [
        '<iframe src="https://x.test"></iframe><object data="x.swf"></object>',
        '<embed src="x">',
        '<form action="https://x.test"><input name=a>',
        '<button formaction="https://y.test">b</button></form>',
        "<style>body{display:none}</style>",
        '<p style="background:url(https://x.test/t.png)">s</p>',
        '<base href="https://x.test/">',
        '<meta http-equiv="refresh" content="0;url=https://x.test">',
        "<link rel=stylesheet href=https://x.test/a.css>",
      ].join("\n\n"),
    );
    for (const tag of [
      "iframe",
      "object",
      "embed",
      "form",
      "input",
      "button",
      "style",
      "base",
      "meta",
      "link",
    ]) {
      expect(div.querySelector(tag), tag).toBeNull();
    }
    expect(div.querySelector("[style], [action], [formaction]")).toBeNull();
    const paragraphs = Array.from(div.querySelectorAll("p")).map((p) => p.textContent);
    expect(paragraphs).toContain("s"); // the element stays, only its style goes
  });

  it("does not let entity tricks turn text into markup", () => {
    const div = render(
      "&lt;script&gt;alert(1)&lt;/script&gt; and &#60;img src=x onerror=alert(1)&#62;",
    );
    expect(div.querySelector("script, img")).toBeNull();
    expect(div.textContent).toContain("<script>alert(1)</script>");
    noHandlers(div);
  });

  it("survives mutation-style payloads", () => {
    const div = render(
      '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>\n\n' +
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(2)>",
    );
    noHandlers(div);
    expect(div.querySelector("math, noscript")).toBeNull();
  });

  it("opens safe links in a new tab without an opener or referrer", () => {
    const div = render(
      "[docs](https://example.org/a?b=1) [mail](mailto:a@b.c) [top](#title)",
    );
    const links = Array.from(div.querySelectorAll("a"));
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "https://example.org/a?b=1",
      "mailto:a@b.c",
      "#title",
    ]);
    for (const a of links) {
      expect(a.getAttribute("rel")).toBe("noopener noreferrer");
      expect(a.getAttribute("target")).toBe("_blank");
    }
  });

  it("drops relative image and link URLs that would hit the notebook server", () => {
    const div = render("![x](/api/contents) [y](/lab/tree)");
    expect(div.querySelector("img")?.hasAttribute("src")).toBe(false);
    expect(div.querySelector("a")?.hasAttribute("href")).toBe(false);
  });
});

describe("Markdown viewer", () => {
  it("renders into viewer-markdown with no executable content", () => {
    const { el } = show(
      spec("markdown", { markdown: "# Hi\n\n<img src=x onerror=alert(1)>" }),
    );
    const root = q(el, "viewer-markdown")!;
    expect(root.querySelector("h1")?.textContent).toBe("Hi");
    noHandlers(root);
    expect(q(el, "viewer-truncated")).toBeNull();
  });

  it("names the cap when the kernel truncated the text", () => {
    const { el } = show(
      spec("markdown", {
        markdown: "# part",
        truncated: true,
        size: 10_485_760,
        caps: { bytes: 2_097_152 },
      }),
    );
    expect(q(el, "viewer-truncated")?.textContent).toBe(
      "Truncated: showing the first 2 MB of 10 MB (cap: bytes=2097152).",
    );
  });

  it("cuts text past its own cap and says so", () => {
    const md = "a".repeat(MAX_MARKDOWN_CHARS + 10);
    const { el } = show(spec("markdown", { markdown: md }));
    expect(q(el, "viewer-truncated")?.textContent).toContain("2,000,000 characters");
    expect((q(el, "markdown-body")?.textContent ?? "").trim().length).toBe(
      MAX_MARKDOWN_CHARS,
    );
  });

  it("says an empty document is empty and refuses a spec without text", () => {
    expect(show(spec("markdown", { markdown: "  " })).el.textContent).toContain(
      "empty",
    );
    const { el } = show(spec("markdown", { markdown: ["x"] }));
    expect(q(el, "viewer-markdown")).not.toBeNull();
    expect(q(el, "viewer-invalid")?.textContent).toContain('"markdown" is a list');
  });
});
