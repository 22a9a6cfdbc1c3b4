// The controls above the table: filters, view toggles, live state and counts.
import { h } from "../lib/dom";
import {
  formatCount,
  formatTime,
  isValidZone,
  localZone,
  zoneLabel,
} from "../lib/format";
import { stateBadge, stateLabel } from "../lib/states";
import type { ColumnDef } from "./layout";
import type { ArchivedView } from "./traits";

export interface ToolbarHandlers {
  text(value: string): void;
  toggleState(state: string): void;
  archived(view: ArchivedView): void;
  polling(on: boolean): void;
  timeZone(zone: string): void;
  hideColumn(key: string, hidden: boolean): void;
  refresh(): void;
}

export interface ToolbarState {
  text: string;
  stateOrder: string[];
  counts: Map<string, number>;
  stateFilter: readonly string[];
  archived: ArchivedView;
  polling: boolean;
  updatedAt: string;
  timeZone: string;
  loaded: number;
  total: number;
  shown: number;
  loading: boolean;
  columns: ColumnDef[];
  hidden: readonly string[];
}

export class Toolbar {
  readonly root: HTMLElement;
  readonly filter: HTMLInputElement;
  private readonly chips: HTMLElement;
  private readonly archived: HTMLSelectElement;
  private readonly polling: HTMLInputElement;
  private readonly updated: HTMLElement;
  private readonly zoneSelect: HTMLSelectElement;
  private readonly zone: HTMLElement;
  private readonly count: HTMLElement;
  private readonly spinner: HTMLElement;
  private readonly chooser: HTMLDetailsElement;
  private readonly chooserList: HTMLElement;
  private chooserKey = "";

  constructor(private readonly on: ToolbarHandlers) {
    this.filter = h("input", {
      type: "search",
      class: "kfp-filter",
      placeholder: "Filter by name, id, experiment, pipeline, parameter…",
      "aria-label": "Filter runs",
      "data-testid": "text-filter",
    });
    this.filter.addEventListener("input", () => on.text(this.filter.value));
    this.chips = h("div", {
      class: "kfp-chips",
      role: "group",
      "aria-label": "Filter by state",
    });
    this.archived = select("archived-toggle", "Which runs", [
      ["active", "Active"],
      ["archived", "Archived"],
      ["all", "All"],
    ]);
    this.archived.addEventListener("change", () =>
      on.archived(this.archived.value as ArchivedView),
    );
    this.polling = h("input", { type: "checkbox", "data-testid": "polling-toggle" });
    this.polling.addEventListener("change", () => on.polling(this.polling.checked));
    this.updated = h("span", { class: "kfp-muted", "data-testid": "updated-at" });
    this.zoneSelect = select("time-zone-select", "Time zone", []);
    this.zoneSelect.addEventListener("change", () =>
      on.timeZone(this.zoneSelect.value),
    );
    this.zone = h("span", { class: "kfp-zone", "data-testid": "time-zone" });
    this.count = h("span", {
      class: "kfp-count",
      "data-testid": "row-count",
      "aria-live": "polite",
    });
    this.spinner = h(
      "span",
      { class: "kfp-spinner", "data-testid": "loading", role: "status", hidden: true },
      "Loading…",
    );
    this.chooserList = h("div", { class: "kfp-chooser-list" });
    this.chooser = h(
      "details",
      { class: "kfp-chooser", "data-testid": "column-chooser" },
      h("summary", { class: "kfp-button" }, "Columns"),
      this.chooserList,
    );
    const refresh = h(
      "button",
      { type: "button", class: "kfp-button", "data-testid": "refresh" },
      "Refresh",
    );
    refresh.addEventListener("click", () => on.refresh());

    this.root = h(
      "div",
      { class: "kfp-toolbar" },
      h(
        "div",
        { class: "kfp-toolbar-row" },
        this.filter,
        this.archived,
        this.chooser,
        refresh,
      ),
      this.chips,
      h(
        "div",
        { class: "kfp-toolbar-row kfp-status" },
        this.count,
        this.spinner,
        h("label", { class: "kfp-toggle" }, this.polling, "Live updates"),
        this.updated,
        h("span", { class: "kfp-zone-group" }, "Times in ", this.zone, this.zoneSelect),
      ),
    );
  }

  update(s: ToolbarState): void {
    if (document.activeElement !== this.filter && this.filter.value !== s.text) {
      this.filter.value = s.text;
    }
    this.drawChips(s);
    this.archived.value = s.archived;
    this.polling.checked = s.polling;
    this.updated.textContent = updatedText(s.updatedAt, s.timeZone);
    this.drawZone(s.timeZone);
    this.count.textContent = countText(s);
    this.spinner.hidden = !s.loading;
    this.drawChooser(s.columns, s.hidden);
  }

  private drawChips(s: ToolbarState): void {
    const shown = new Set(s.stateFilter);
    const states = [...s.stateOrder];
    for (const state of [...s.counts.keys(), ...s.stateFilter]) {
      if (state && !states.includes(state)) states.push(state);
    }
    const chips: HTMLElement[] = [];
    for (const state of states) {
      const n = s.counts.get(state) ?? 0;
      if (!n && !shown.has(state)) continue;
      const chip = h(
        "button",
        {
          type: "button",
          class: `kfp-chip${shown.has(state) ? " kfp-chip-on" : ""}`,
          "aria-pressed": String(shown.has(state)),
          "data-testid": `state-chip-${state}`,
          title: `Show only ${stateLabel(state)} runs (click again to clear)`,
        },
        stateBadge(state),
        h("span", { class: "kfp-chip-count" }, formatCount(n)),
      );
      chip.addEventListener("click", () => this.on.toggleState(state));
      chips.push(chip);
    }
    this.chips.replaceChildren(...chips);
  }

  private drawZone(zone: string): void {
    this.zone.textContent = zoneLabel(zone);
    const options: [string, string][] = [
      ["", `Local (${localZone()})`],
      ["UTC", "UTC"],
    ];
    if (zone && zone !== "UTC")
      options.push([zone, isValidZone(zone) ? zone : `${zone} (unknown)`]);
    const key = options.map((o) => o.join("=")).join("|");
    if (this.zoneSelect.dataset.key !== key) {
      this.zoneSelect.dataset.key = key;
      this.zoneSelect.replaceChildren(
        ...options.map(([v, t]) => h("option", { value: v }, t)),
      );
    }
    this.zoneSelect.value = zone;
  }

  private drawChooser(columns: ColumnDef[], hidden: readonly string[]): void {
    const hideable = columns.filter((c) => c.hideable);
    const key = hideable.map((c) => c.key).join("|") + "#" + hidden.join("|");
    if (key === this.chooserKey) return;
    this.chooserKey = key;
    const items = hideable.map((col) => {
      const box = h("input", {
        type: "checkbox",
        "data-testid": `column-toggle-${col.key}`,
        checked: !hidden.includes(col.key),
      });
      box.addEventListener("change", () => this.on.hideColumn(col.key, !box.checked));
      return h("label", { class: "kfp-chooser-item" }, box, col.label);
    });
    this.chooserList.replaceChildren(...items);
    if (!items.length) this.chooserList.textContent = "No optional columns";
  }
}

function select(
  testid: string,
  label: string,
  options: [string, string][],
): HTMLSelectElement {
  const el = h("select", {
    class: "kfp-select",
    "data-testid": testid,
    "aria-label": label,
  });
  el.append(...options.map(([v, t]) => h("option", { value: v }, t)));
  return el;
}

function countText(s: ToolbarState): string {
  const loaded = formatCount(s.loaded);
  const total = s.total > s.loaded ? formatCount(s.total) : loaded;
  const base = `${loaded} of ${total} runs loaded`;
  return s.shown === s.loaded ? base : `${formatCount(s.shown)} shown · ${base}`;
}

function updatedText(iso: string, zone: string): string {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(t) ? `Updated ${formatTime(t, zone)}` : "Not updated yet";
}
