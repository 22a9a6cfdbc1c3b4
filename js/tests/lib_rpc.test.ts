import { afterEach, describe, expect, it, vi } from "vitest";
import { dispatch, request, RpcError } from "../src/lib/rpc";
import { FakeModel } from "./run_table_fake";

afterEach(() => vi.useRealTimers());

describe("request", () => {
  it("resolves with the reply that repeats its id, ignoring others", async () => {
    const model = new FakeModel();
    const p = request(model as any, { kind: "load" });
    const { id, kind } = model.sent[0].content;
    expect(kind).toBe("load");
    expect(typeof id).toBe("string");
    model.pySend({ kind: "rows", id: "someone-else", replace: true });
    model.pySend({ kind: "rows", id, replace: true }, [new Uint8Array([1, 2, 3])]);
    const reply = await p;
    expect(reply.msg.replace).toBe(true);
    expect(
      new Uint8Array(reply.buffers[0].buffer, reply.buffers[0].byteOffset, 3),
    ).toEqual(new Uint8Array([1, 2, 3]));
    expect(model.listenerCount()).toBe(0);
  });

  it("sends buffers and gives each request a fresh id", () => {
    const model = new FakeModel();
    void request(model as any, { kind: "a" }, [new Uint8Array([9])]).catch(() => {});
    void request(model as any, { kind: "b" }).catch(() => {});
    expect(model.sent[0].buffers[0]).toEqual(new Uint8Array([9]));
    expect(model.sent[0].content.id).not.toBe(model.sent[1].content.id);
  });

  it("rejects on ok:false with the server's message", async () => {
    const model = new FakeModel();
    const p = request(model as any, { kind: "run_detail", run_id: "r" });
    model.pySend({
      kind: "run_detail",
      id: model.sent[0].content.id,
      ok: false,
      error: "run r not found",
    });
    await expect(p).rejects.toThrow("run r not found");
    await expect(p).rejects.toBeInstanceOf(RpcError);
    expect(model.listenerCount()).toBe(0);
  });

  it("passes progress messages on and resolves on the final reply", async () => {
    const model = new FakeModel();
    const progress: unknown[] = [];
    const p = request(model as any, { kind: "action" }, undefined, {
      onProgress: (m) => progress.push(m.run_id),
    });
    const id = model.sent[0].content.id;
    model.pySend({ kind: "action_progress", id, run_id: "r1", ok: true });
    model.pySend({ kind: "action_progress", id, run_id: "r2", ok: false, error: "x" });
    model.pySend({ kind: "action_done", id, ok: true, results: [] });
    expect((await p).msg.kind).toBe("action_done");
    expect(progress).toEqual(["r1", "r2"]);
  });

  it("times out and removes its listener", async () => {
    vi.useFakeTimers();
    const model = new FakeModel();
    const p = request(model as any, { kind: "load" }, undefined, { timeoutMs: 1000 });
    const check = expect(p).rejects.toThrow(/no reply to load in 1000 ms/);
    vi.advanceTimersByTime(1001);
    await check;
    expect(model.listenerCount()).toBe(0);
  });

  it("rejects when aborted", async () => {
    const model = new FakeModel();
    const abort = new AbortController();
    const p = request(model as any, { kind: "load" }, undefined, {
      signal: abort.signal,
    });
    abort.abort();
    await expect(p).rejects.toThrow(/cancelled/);
    expect(model.listenerCount()).toBe(0);
  });
});

describe("dispatch", () => {
  it("routes messages without an id by kind and reports handler errors", () => {
    const model = new FakeModel();
    const seen: string[] = [];
    const errors: unknown[] = [];
    const off = dispatch(
      model as any,
      {
        update: (m) => seen.push(`update:${m.n}`),
        remove: () => {
          throw new Error("bad remove");
        },
      },
      (e) => errors.push(e),
    );
    model.pySend({ kind: "update", n: 1 });
    model.pySend({ kind: "update", id: "x", n: 2 }); // a reply: not for the dispatcher
    model.pySend({ kind: "remove" });
    model.pySend({ kind: "rows", ok: false, error: "listing failed" });
    expect(seen).toEqual(["update:1"]);
    expect(errors.map((e) => (e as Error).message)).toEqual([
      "bad remove",
      "listing failed",
    ]);
    off();
    expect(model.listenerCount()).toBe(0);
  });
});
