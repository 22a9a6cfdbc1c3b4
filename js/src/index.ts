// anywidget entry: one bundle for every kfp_nb panel, chosen by the `_panel` trait.
import type { AnyModel, RenderProps } from "@anywidget/types";
import "./styles.css";
import { renderRunTable } from "./run_table/index";
import { renderRunView } from "./run_view/index";
import { renderArtifactViewer } from "./viewers/index";

type Render = (props: RenderProps) => void | (() => void);

const PANELS: Record<string, Render> = {
  run_table: renderRunTable,
  run_view: renderRunView,
  artifact_viewer: renderArtifactViewer,
};

function render(props: RenderProps): void | (() => void) {
  const panel = String((props.model as AnyModel).get("_panel") ?? "");
  const draw = PANELS[panel];
  if (!draw) {
    props.el.textContent = `kfp_nb: unknown panel ${JSON.stringify(panel)}`;
    return;
  }
  return draw(props);
}

export default { render };
