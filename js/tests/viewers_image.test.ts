import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { imageMime } from "../src/viewers/image";
import { cleanupAll, fakeBlobUrls, q, show, spec } from "./viewers_fake";

let blobs: ReturnType<typeof fakeBlobUrls>;
beforeEach(() => {
  blobs = fakeBlobUrls();
});
afterEach(() => {
  cleanupAll();
  blobs.restore();
});

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

describe("image viewer", () => {
  it("shows the buffer through a Blob URL with the spec's mime", async () => {
    const { el } = show(spec("image", { mime: "image/png" }), { image: PNG });
    const img = q(el, "viewer-img") as HTMLImageElement;
    expect(img.tagName).toBe("IMG");
    expect(img.getAttribute("src")).toBe("blob:test/1");
    expect(img.alt).toBe("A image");
    expect(blobs.created).toHaveLength(1);
    const blob = blobs.created[0].blob;
    expect(blob.type).toBe("image/png");
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(PNG);
    expect(el.textContent).toContain("image/png, 11 bytes");
  });

  it("revokes the URL on cleanup, once", () => {
    const { stop } = show(spec("image", { mime: "png" }), { image: PNG });
    expect(blobs.revoked).toEqual([]);
    stop();
    stop();
    expect(blobs.revoked).toEqual(["blob:test/1"]);
  });

  it("shows SVG only as an <img> (scripts in it never run)", () => {
    const svg = new TextEncoder().encode(
      '<svg onload="alert(1)"><script>alert(2)</script></svg>',
    );
    const { el } = show(spec("image", { mime: "image/svg+xml" }), { image: svg });
    expect(el.querySelector("svg, script")).toBeNull();
    expect(q(el, "viewer-img")?.tagName).toBe("IMG");
    expect(blobs.created[0].blob.type).toBe("image/svg+xml");
  });

  it("copes with bytes that are a view into a larger buffer", async () => {
    const big = new Uint8Array(100);
    big.set(PNG, 40);
    show(spec("image", { mime: "image/png" }), {
      image: big.subarray(40, 40 + PNG.length),
    });
    expect(new Uint8Array(await blobs.created[0].blob.arrayBuffer())).toEqual(PNG);
  });

  it("says so when there are no bytes, without creating a URL", () => {
    const { el } = show(spec("image", { mime: "image/png" }));
    expect(el.textContent).toContain("No image data");
    expect(blobs.created).toHaveLength(0);
  });

  it("refuses types outside the image list and malformed mimes", () => {
    for (const mime of ["text/html", "image/x-icon", undefined, 5]) {
      const { el } = show(spec("image", { mime }), { image: PNG });
      expect(q(el, "viewer-image")).not.toBeNull();
      expect(q(el, "viewer-invalid")).not.toBeNull();
      expect(q(el, "viewer-img")).toBeNull();
    }
    expect(blobs.created).toHaveLength(0);
    expect(imageMime("JPG")).toBe("image/jpeg");
    expect(imageMime("image/webp")).toBe("image/webp");
  });

  it("says when the browser cannot decode the image", () => {
    const { el } = show(spec("image", { mime: "image/png" }), {
      image: new Uint8Array([1, 2]),
    });
    q(el, "viewer-img")!.dispatchEvent(new Event("error"));
    expect(el.textContent).toContain("could not be decoded");
  });

  it("shows a large image from its bytes", () => {
    const big = new Uint8Array(8 * 1024 * 1024);
    const { el } = show(spec("image", { mime: "image/gif" }), { image: big });
    expect(q(el, "viewer-img")).not.toBeNull();
    expect(el.textContent).toContain("image/gif, 8 MB");
  });
});
