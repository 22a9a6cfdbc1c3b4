import type { RenderProps } from "@anywidget/types";

export function renderRunTable({ el }: RenderProps): void {
  el.textContent = "kfp_nb run table: front end not written yet";
}
