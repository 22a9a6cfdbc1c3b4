import type { RenderProps } from "@anywidget/types";

export function renderRunView({ el }: RenderProps): void {
  el.textContent = "kfp_nb run view: front end not written yet";
}
