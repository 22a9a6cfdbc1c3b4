// The run table panel (PROTOCOL.md, `_panel == "run_table"`): rows from Arrow IPC in a
// columnar store, filtered and sorted locally, drawn through a virtual window; bulk
// actions and run details are requests to the kernel.
import type { AnyModel, RenderProps } from "@anywidget/types";
import { enabledActions, type Action } from "../lib/actions";
import { batchFromTable, ColumnStore, decodeIPC } from "../lib/columns";
import { h } from "../lib/dom";
import { dispatch, request, type Message } from "../lib/rpc";
import { normalizeRules, type Rules } from "../lib/states";
import { ActionBar, type Failure, type Summary } from "./actions_bar";
import { VirtualBody, type Outcome } from "./body";
import { DetailPane } from "./detail_pane";
import { allColumns, visibleColumns } from "./layout";
import { computeOrder, Haystack, stateCounts } from "./order";
import { Toolbar } from "./toolbar";
import * as t from "./traits";

const TEXT_DEBOUNCE_MS = 150;
const INDEX_DELAY_MS = 200;
const LOAD_TIMEOUT_MS = 120_000;
// Actions restart this clock on every per-run progress message.
const ACTION_TIMEOUT_MS = 180_000;

export function renderRunTable({ model, el, signal }: RenderProps): () => void {
  try {
    const panel = new RunTablePanel(model, el);
    signal?.addEventListener("abort", () => panel.dispose());
    return () => panel.dispose();
  } catch (err) {
    el.replaceChildren(
      h(
        "div",
        { class: "kfp-nb kfp-error", "data-testid": "panel-error", role: "alert" },
        `kfp_nb run table failed to start: ${messageOf(err)}`,
      ),
    );
    return () => el.replaceChildren();
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : JSON.stringify(err);
}

class RunTablePanel {
  private readonly root: HTMLElement;
  private readonly listeners: t.Listeners;
  private readonly abort = new AbortController();
  private readonly store = new ColumnStore();
  private readonly hay = new Haystack();
  private readonly body = new VirtualBody();
  private readonly toolbar: Toolbar;
  private readonly actions: ActionBar;
  private readonly detail: DetailPane;
  private readonly errorBox: HTMLElement;
  private readonly undispatch: () => void;

  private rules: Rules;
  private selected: Set<string>;
  private text: string;
  private textTimer: ReturnType<typeof setTimeout> | undefined;
  private indexTimer: ReturnType<typeof setTimeout> | undefined;
  private order: number[] = [];
  private orderKey = "";
  private anchor: string | null = null;
  private outcomes = new Map<string, Outcome>();
  private busy = false;
  private localError = "";
  private traitErrorDismissed = "";
  private disposed = false;

  constructor(
    private readonly model: AnyModel,
    private readonly el: HTMLElement,
  ) {
    this.listeners = new t.Listeners(model);
    this.rules = normalizeRules(model.get("rules"));
    this.selected = new Set(t.readSelected(model));
    this.text = t.readString(model, "text_filter");

    this.errorBox = h("div", {
      class: "kfp-error",
      "data-testid": "panel-error",
      role: "alert",
      hidden: true,
    });
    this.toolbar = new Toolbar(this.toolbarHandlers());
    this.actions = new ActionBar(
      (action) => void this.runAction(action),
      () => this.selected.size,
    );
    this.detail = new DetailPane(model, {
      timeZone: () => t.readString(model, "time_zone"),
      rules: () => this.rules,
      onError: (err) => this.showError(err),
      signal: this.abort.signal,
    });
    this.root = h(
      "div",
      { class: "kfp-nb kfp-run-table", "data-testid": "kfp-run-table" },
      this.errorBox,
      this.toolbar.root,
      h("div", { class: "kfp-toolbar-row" }, this.actions.root),
      this.actions.dialog,
      this.actions.summary,
      h("div", { class: "kfp-main" }, this.body.scroll, this.detail.root),
    );
    el.replaceChildren(this.root);

    this.wireDom();
    this.wireModel();
    this.undispatch = dispatch(model, this.pushHandlers(), (err) =>
      this.showError(err),
    );
    this.draw();
    this.summaryFromTrait(); // a view opened after an action still shows its outcome
    void this.load("load");
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.abort.abort();
    this.undispatch();
    this.listeners.clear();
    this.body.dispose();
    this.detail.close();
    clearTimeout(this.textTimer);
    clearTimeout(this.indexTimer);
    this.root.remove();
  }

  // ---- data -------------------------------------------------------------------------

  private async load(kind: "load" | "refresh"): Promise<void> {
    try {
      const { msg, buffers } = await request(this.model, { kind }, undefined, {
        timeoutMs: LOAD_TIMEOUT_MS,
        signal: this.abort.signal,
      });
      this.onRows(msg, buffers, true);
    } catch (err) {
      if (!this.disposed) this.showError(err);
    }
  }

  private pushHandlers(): Record<string, (msg: Message, buffers: DataView[]) => void> {
    return {
      rows: (msg, buffers) => this.onRows(msg, buffers, msg.replace === true),
      update: (_msg, buffers) => this.applyBatch(buffers, "merge"),
      remove: (msg) => {
        const ids = Array.isArray(msg.run_ids) ? msg.run_ids.map(String) : [];
        this.store.remove(ids);
        this.draw();
      },
      run_detail: (msg) => this.detail.push(msg),
    };
  }

  private onRows(msg: Message, buffers: DataView[], replace: boolean): void {
    if (!buffers.length) {
      if (replace) this.store.replace({ length: 0, columns: new Map() });
      this.draw();
      return;
    }
    this.applyBatch(buffers, replace ? "replace" : "append");
  }

  private applyBatch(buffers: DataView[], how: "replace" | "append" | "merge"): void {
    if (!buffers.length) throw new Error("row message without its Arrow buffer");
    const batch = batchFromTable(decodeIPC(buffers[0]));
    if (how === "replace") this.store.replace(batch);
    else if (how === "append") this.store.append(batch);
    else this.store.merge(batch);
    this.draw();
    // The run_id index is built once the first rows have painted, not before; any
    // lookup needing it sooner builds it on demand.
    clearTimeout(this.indexTimer);
    this.indexTimer = setTimeout(
      this.guard(() => {
        if (this.store.buildIndex()) this.draw();
      }),
      INDEX_DELAY_MS,
    );
  }

  // ---- drawing ----------------------------------------------------------------------

  private draw(): void {
    try {
      this.drawUnsafe();
    } catch (err) {
      this.showError(err);
    }
  }

  private drawUnsafe(): void {
    const model = this.model;
    // Selection lookups need the index; build it first so the order below is final.
    if (this.selected.size) this.store.buildIndex();
    const hidden = t.readStrings(model, "hidden_columns");
    const all = allColumns(t.readColumns(model), this.store);
    const columns = visibleColumns(all, hidden);
    const sort = t.readSort(model);
    const states = t.readStrings(model, "state_filter");
    const zone = t.readString(model, "time_zone");
    this.updateOrder(states, sort);

    this.toolbar.update({
      text: this.text,
      stateOrder: this.rules.states,
      counts: this.counts(),
      stateFilter: states,
      archived: t.readArchived(model),
      polling: !!model.get("polling"),
      updatedAt: t.readString(model, "updated_at"),
      timeZone: zone,
      loaded: Math.max(this.store.length, 0),
      total: t.readNumber(model, "total"),
      shown: this.order.length,
      loading: !!model.get("loading"),
      columns: all,
      hidden,
    });
    this.body.update(
      {
        store: this.store,
        order: this.order,
        columns,
        selected: this.selected,
        outcomes: this.outcomes,
        sort,
        timeZone: zone,
        now: Date.now(),
      },
      this.emptyText(),
    );
    this.drawSelection();
    this.drawError();
  }

  private updateOrder(states: string[], sort: t.SortSpec): void {
    const key = [
      this.store.version,
      this.text,
      states.join(","),
      sort.key,
      sort.desc,
    ].join("\u0000");
    if (key === this.orderKey) return;
    this.orderKey = key;
    this.order = computeOrder(this.store, { text: this.text, states, sort }, this.hay);
  }

  private countsCache: [number, Map<string, number>] = [-1, new Map()];

  /** Rows per state, recounted only when the store changes. */
  private counts(): Map<string, number> {
    if (this.countsCache[0] !== this.store.version) {
      this.countsCache = [this.store.version, stateCounts(this.store)];
    }
    return this.countsCache[1];
  }

  private emptyText(): string {
    if (this.store.length) return "No loaded run matches the filters.";
    return this.model.get("loading") ? "Loading runs…" : "No runs.";
  }

  /** Checkbox states, select-all and the action buttons. */
  private drawSelection(): void {
    const states: (string | null)[] = [];
    const storage: (string | null)[] = [];
    for (const id of this.selected) {
      const row = this.store.rowOf(id);
      states.push(row === undefined ? null : this.store.text("state", row));
      storage.push(row === undefined ? null : this.store.text("storage_state", row));
    }
    const enablement = enabledActions(states, storage, this.rules);
    this.actions.setEnablement(enablement, this.selected.size, this.busy);

    let shownSelected = 0;
    if (this.selected.size) {
      for (const r of this.order)
        if (this.selected.has(this.store.idAt(r))) shownSelected++;
    }
    const box = this.body.selectAll;
    box.checked = this.order.length > 0 && shownSelected === this.order.length;
    box.indeterminate = shownSelected > 0 && shownSelected < this.order.length;
    box.disabled = this.order.length === 0;
  }

  private drawError(): void {
    const traitError = t.readString(this.model, "error");
    const text =
      this.localError || (traitError !== this.traitErrorDismissed ? traitError : "");
    if (!text) {
      this.errorBox.hidden = true;
      return;
    }
    const dismiss = h(
      "button",
      {
        type: "button",
        class: "kfp-icon-button",
        "data-testid": "panel-error-dismiss",
        "aria-label": "Dismiss error",
        title: "Dismiss",
      },
      "×",
    );
    dismiss.addEventListener("click", () => {
      this.localError = "";
      this.traitErrorDismissed = traitError;
      this.drawError();
    });
    this.errorBox.replaceChildren(
      h("span", { class: "kfp-error-text" }, text),
      dismiss,
    );
    this.errorBox.hidden = false;
  }

  private showError(err: unknown): void {
    if (this.disposed) return;
    this.localError = messageOf(err) || "unknown error";
    this.drawError();
  }

  // ---- selection and actions --------------------------------------------------------

  private setSelected(next: Set<string>): void {
    this.selected = next;
    t.save(this.model, "selected", [...next]);
    this.draw();
  }

  private toggleRow(
    runId: string,
    { shift, on }: { shift: boolean; on?: boolean },
  ): void {
    const next = new Set(this.selected);
    const want = on ?? !next.has(runId);
    const ids = shift && this.anchor ? this.rangeIds(this.anchor, runId) : [runId];
    for (const id of ids) {
      if (want) next.add(id);
      else next.delete(id);
    }
    this.anchor = runId;
    this.setSelected(next);
  }

  /** Run ids from `a` to `b` inclusive, in the current sorted and filtered order. */
  private rangeIds(a: string, b: string): string[] {
    const ids = this.order.map((r) => this.store.idAt(r));
    const i = ids.indexOf(a);
    const j = ids.indexOf(b);
    if (i < 0 || j < 0) return [b];
    return ids.slice(Math.min(i, j), Math.max(i, j) + 1);
  }

  private toggleAllShown(): void {
    const ids = this.order.map((r) => this.store.idAt(r));
    const all = ids.length > 0 && ids.every((id) => this.selected.has(id));
    const next = new Set(this.selected);
    for (const id of ids) {
      if (all) next.delete(id);
      else next.add(id);
    }
    this.setSelected(next);
  }

  private async runAction(action: Action): Promise<void> {
    const ids = [...this.selected];
    if (!ids.length || this.busy) return;
    this.busy = true;
    for (const id of ids) this.outcomes.set(id, { status: "pending" });
    this.draw();
    try {
      const { msg } = await request(
        this.model,
        { kind: "action", action, run_ids: ids },
        undefined,
        {
          timeoutMs: ACTION_TIMEOUT_MS,
          signal: this.abort.signal,
          onProgress: (p) => this.onProgress(p),
        },
      );
      this.onActionDone(action, ids, msg);
    } catch (err) {
      for (const id of ids) {
        if (this.outcomes.get(id)?.status === "pending") this.outcomes.delete(id);
      }
      if (!this.disposed) this.showError(err);
    } finally {
      this.busy = false;
      if (!this.disposed) this.draw();
    }
  }

  private onProgress(p: Message): void {
    const id = String(p.run_id ?? "");
    if (!id) return;
    this.outcomes.set(
      id,
      p.ok
        ? { status: "ok" }
        : { status: "failed", error: String(p.error ?? "failed") },
    );
    this.draw();
  }

  private onActionDone(action: Action, ids: string[], msg: Message): void {
    const results = Array.isArray(msg.results)
      ? (msg.results as Record<string, unknown>[])
      : [];
    const failed: Failure[] = [];
    let succeeded = 0;
    for (const r of results) {
      const id = String(r.run_id ?? "");
      if (r.ok) {
        succeeded++;
        this.outcomes.set(id, { status: "ok" });
      } else {
        const error = String(r.error ?? "failed");
        failed.push({ run_id: id, error, name: this.nameOf(id) });
        this.outcomes.set(id, { status: "failed", error });
      }
    }
    this.actions.showSummary({ action, requested: ids.length, succeeded, failed });
  }

  private nameOf(runId: string): string | undefined {
    const row = this.store.rowOf(runId);
    return row === undefined
      ? undefined
      : (this.store.text("display_name", row) ?? undefined);
  }

  private summaryFromTrait(): void {
    const v = this.model.get("last_action") as Record<string, unknown> | null;
    if (!v || typeof v !== "object" || !v.action) return;
    const failed = (Array.isArray(v.failed) ? v.failed : []).map((f: any) => ({
      run_id: String(f?.run_id ?? ""),
      error: String(f?.error ?? "failed"),
      name: this.nameOf(String(f?.run_id ?? "")),
    }));
    const summary: Summary = {
      action: String(v.action),
      requested: Number(v.requested) || 0,
      succeeded: Number(v.succeeded) || 0,
      failed,
    };
    this.actions.showSummary(summary);
  }

  // ---- wiring -----------------------------------------------------------------------

  private guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      if (this.disposed) return;
      try {
        fn(...args);
      } catch (err) {
        this.showError(err);
      }
    };
  }

  private toolbarHandlers() {
    const g = this.guard.bind(this);
    return {
      text: g((value: string) => {
        this.text = value;
        this.draw();
        clearTimeout(this.textTimer);
        this.textTimer = setTimeout(
          this.guard(() => {
            this.textTimer = undefined;
            t.save(this.model, "text_filter", this.text);
          }),
          TEXT_DEBOUNCE_MS,
        );
      }),
      toggleState: g((state: string) => {
        const current = t.readStrings(this.model, "state_filter");
        const next = current.includes(state)
          ? current.filter((s) => s !== state)
          : [...current, state];
        t.save(this.model, "state_filter", next);
        this.draw();
      }),
      archived: g((view: t.ArchivedView) => {
        t.save(this.model, "archived", view);
        this.draw();
      }),
      polling: g((on: boolean) => t.save(this.model, "polling", on)),
      timeZone: g((zone: string) => {
        t.save(this.model, "time_zone", zone);
        this.draw();
        this.detail.redraw();
      }),
      hideColumn: g((key: string, hide: boolean) => {
        const current = t.readStrings(this.model, "hidden_columns");
        const next = hide
          ? [...new Set([...current, key])]
          : current.filter((k) => k !== key);
        t.save(this.model, "hidden_columns", next);
        this.draw();
      }),
      refresh: g(() => void this.load("refresh")),
    };
  }

  private wireModel(): void {
    const redraw = this.guard(() => this.draw());
    for (const key of [
      "columns",
      "hidden_columns",
      "sort",
      "state_filter",
      "archived",
      "polling",
      "updated_at",
      "loaded",
      "total",
      "loading",
      "error",
    ]) {
      this.listeners.on(`change:${key}`, redraw);
    }
    this.listeners.on(
      "change:time_zone",
      this.guard(() => {
        this.draw();
        this.detail.redraw();
      }),
    );
    this.listeners.on(
      "change:rules",
      this.guard(() => {
        this.rules = normalizeRules(this.model.get("rules"));
        this.draw();
      }),
    );
    this.listeners.on(
      "change:selected",
      this.guard(() => {
        this.selected = new Set(t.readSelected(this.model));
        this.draw();
      }),
    );
    this.listeners.on(
      "change:text_filter",
      this.guard(() => {
        const value = t.readString(this.model, "text_filter");
        // While the user is typing, their pending text wins over an older echo.
        if (value === this.text || this.textTimer !== undefined) return;
        this.text = value;
        this.draw();
      }),
    );
    this.listeners.on(
      "change:error",
      this.guard(() => {
        this.traitErrorDismissed = "";
        this.drawError();
      }),
    );
    this.listeners.on(
      "change:last_action",
      this.guard(() => this.summaryFromTrait()),
    );
  }

  private wireDom(): void {
    const body = this.body;
    body.header.addEventListener(
      "click",
      this.guard((e: MouseEvent) => {
        const button = (e.target as HTMLElement).closest<HTMLElement>("[data-key]");
        if (button) this.sortBy(button.dataset.key ?? "");
      }),
    );
    body.selectAll.addEventListener(
      "change",
      this.guard(() => this.toggleAllShown()),
    );
    body.scroll.addEventListener(
      "click",
      this.guard((e: MouseEvent) => this.onBodyClick(e)),
    );
    this.root.addEventListener(
      "keydown",
      this.guard((e: KeyboardEvent) => this.onKey(e)),
    );
  }

  private sortBy(key: string): void {
    if (!key) return;
    const current = t.readSort(this.model);
    const next =
      current.key === key ? { key, desc: !current.desc } : { key, desc: false };
    t.save(this.model, "sort", next);
    this.draw();
  }

  private onBodyClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const row = target.closest<HTMLElement>("[data-testid=run-row]");
    const id = row?.dataset.runId;
    if (!row || !id) return;
    if (target.closest("[data-testid=row-select]")) {
      const box = target as HTMLInputElement;
      this.toggleRow(id, { shift: e.shiftKey, on: box.checked });
    } else if (target.closest("[data-testid=run-link]")) {
      e.preventDefault();
      this.openRun(id);
    }
  }

  private openRun(id: string): void {
    void this.detail.show(id, this.nameOf(id) ?? id);
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    if (e.key === "Escape") {
      if (this.actions.confirming) this.actions.cancelDialog();
      else if (this.detail.open) this.detail.close();
      else return;
      e.preventDefault();
      return;
    }
    const row = target.matches?.("[data-testid=run-row]") ? target : null;
    const id = row?.dataset.runId;
    if (!row || !id) return;
    if (e.key === " " || e.key === "Spacebar") {
      e.preventDefault();
      this.toggleRow(id, { shift: e.shiftKey });
      this.focusIndex(Number(row.dataset.index));
    } else if (e.key === "Enter") {
      e.preventDefault();
      this.openRun(id);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = Number(row.dataset.index) + (e.key === "ArrowDown" ? 1 : -1);
      if (next >= 0 && next < this.order.length) this.focusIndex(next);
    }
  }

  private focusIndex(index: number): void {
    this.body.reveal(index);
    const el = this.body.scroll.querySelector<HTMLElement>(
      `[data-testid=run-row][data-index="${index}"]`,
    );
    el?.focus();
  }
}
