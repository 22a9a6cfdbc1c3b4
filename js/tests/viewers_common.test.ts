import { afterEach, describe, expect, it } from "vitest";
import { formatBytes, formatNumber } from "../src/viewers/common";
import { fileName } from "../src/viewers/download";
import { toBytes } from "../src/viewers/bytes";
import { renderViewSpec } from "../src/viewers/index";
import { cleanupAll, q, show, spec } from "./viewers_fake";

afterEach(cleanupAll);

describe("formatNumber", () => {
  it("keeps at most 6 significant digits", () => {
    expect(formatNumber(0.912345678)).toBe("0.912346");
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(-3.5)).toBe("-3.5");
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatNumber(1234567)).toBe("1.23457e+6");
    expect(formatNumber(0.0000123456789)).toBe("1.23457e-5");
    expect(formatNumber(0)).toBe("0");
  });

  it("names non-finite values", () => {
    expect(formatNumber(NaN)).toBe("NaN");
    expect(formatNumber(Infinity)).toBe("∞");
    expect(formatNumber(-Infinity)).toBe("-∞");
  });
});

describe("formatBytes", () => {
  it("uses binary units", () => {
    expect(formatBytes(512)).toBe("512 bytes");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5 MB");
    expect(formatBytes(-1)).toBe("unknown size");
  });
});

describe("helpers", () => {
  it("toBytes reads DataView, ArrayBuffer and typed arrays without copying", () => {
    const buf = new Uint8Array([1, 2, 3, 4]).buffer;
    expect(Array.from(toBytes(new DataView(buf, 1, 2)))).toEqual([2, 3]);
    expect(Array.from(toBytes(buf))).toEqual([1, 2, 3, 4]);
    expect(toBytes(new DataView(buf)).buffer).toBe(buf);
    expect(toBytes("nope").byteLength).toBe(0);
    expect(toBytes(null).byteLength).toBe(0);
  });

  it("fileName keeps the last segment and drops unsafe characters", () => {
    expect(fileName("model/metrics.json")).toBe("metrics.json");
    expect(fileName("..\\..\\evil<1>.txt")).toBe("evil_1_.txt");
    expect(fileName("..")).toBe("artifact");
    expect(fileName(undefined)).toBe("artifact");
  });
});

describe("renderViewSpec", () => {
  it("shows the title and the artifact's run, task and name as text", () => {
    const hostile = "<img src=x onerror=alert(1)>";
    const s = spec("text", {
      text: "hi",
      title: `<b>${hostile}</b>`,
      artifact: {
        run_id: "<i>r</i>",
        task_id: "t&amp;",
        name: hostile,
        type: "T",
        uri: "u",
      },
    });
    const { el } = show(s);
    expect(q(el, "viewer-title")?.textContent).toBe(`<b>${hostile}</b>`);
    const source = q(el, "viewer-source")?.textContent ?? "";
    expect(source).toContain("run <i>r</i>");
    expect(source).toContain("task t&amp;");
    expect(source).toContain(`artifact ${hostile}`);
    expect(el.querySelector("img, b, i")).toBeNull();
  });

  it("shows a message for an unknown kind and for a spec that is not an object", () => {
    for (const bad of [spec("hologram"), null, "text", [1, 2], 42]) {
      const { el } = show(bad);
      expect(q(el, "viewer-invalid")?.textContent).toMatch(
        /unknown view kind|not an object/,
      );
    }
  });

  it("does not treat inherited names as kinds", () => {
    const { el } = show(spec("toString"));
    expect(q(el, "viewer-invalid")?.textContent).toContain(
      'unknown view kind "toString"',
    );
  });

  it("shows the error kind as a banner with the message", () => {
    const { el } = show(spec("error", { message: "task <x> wrote no file" }));
    const root = q(el, "viewer-error");
    expect(root?.querySelector('[role="alert"]')?.textContent).toBe(
      "task <x> wrote no file",
    );
  });

  it("replaces the container's content and removes it on cleanup", () => {
    const el = document.createElement("div");
    el.append(document.createElement("span"));
    const stop = renderViewSpec(el, spec("text", { text: "one" }));
    expect(el.children).toHaveLength(1);
    expect(q(el, "viewer-text")?.textContent).toBe("one");
    stop();
    expect(el.children).toHaveLength(0);
    stop(); // a second call is harmless
  });
});
