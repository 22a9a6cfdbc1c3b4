// Images from buffer 0 through a Blob URL with the spec's mime type. SVG is shown
// only as an <img>, where its scripts never run and it cannot load anything.
import { h } from "../lib/dom";
import {
  formatBytes,
  needString,
  notice,
  SpecError,
  viewerRoot,
  type Drawn,
  type Json,
  type ViewerContext,
} from "./common";

export const IMAGE_MIMES = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/svg+xml",
];

/** "png" or "image/png" → "image/png"; anything outside the list is a SpecError. */
export function imageMime(raw: string): string {
  const mime = (raw.includes("/") ? raw : `image/${raw}`).trim().toLowerCase();
  const known = mime === "image/jpg" ? "image/jpeg" : mime;
  if (!IMAGE_MIMES.includes(known))
    throw new SpecError(`"${raw}" is not a supported image type`);
  return known;
}

export function renderImage(spec: Json, ctx: ViewerContext): Drawn {
  const mime = imageMime(needString(spec, "mime"));
  const bytes = ctx.image;
  if (!bytes.byteLength) {
    return {
      el: viewerRoot("image", notice("No image data was sent for this artifact.")),
    };
  }
  if (typeof URL.createObjectURL !== "function") {
    throw new SpecError("this page cannot show images from memory");
  }
  // Copy into a fresh ArrayBuffer: the model's buffer may be a view into a larger one.
  const url = URL.createObjectURL(new Blob([bytes.slice()], { type: mime }));
  const name =
    typeof spec.title === "string" && spec.title ? spec.title : "artifact image";
  const img = h("img", {
    class: "kfp-viewer-image",
    "data-testid": "viewer-img",
    alt: name,
    src: url,
    referrerpolicy: "no-referrer",
  });
  const caption = h(
    "div",
    { class: "kfp-viewer-caption" },
    `${mime}, ${formatBytes(bytes.byteLength)}`,
  );
  img.addEventListener("error", () => {
    caption.textContent = `The ${mime} image could not be decoded.`;
    caption.classList.add("kfp-error-text");
  });
  let revoked = false;
  const cleanup = (): void => {
    if (revoked) return;
    revoked = true;
    URL.revokeObjectURL(url);
  };
  return { el: viewerRoot("image", img, caption), cleanup };
}
