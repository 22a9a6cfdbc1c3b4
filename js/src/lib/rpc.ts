// Request/response over anywidget custom messages (PROTOCOL.md "Messages"): each
// request carries a fresh id; the reply repeats it. Messages without an id are
// unsolicited pushes and go to a dispatcher by `kind`.
import type { AnyModel } from "@anywidget/types";

export interface Message {
  kind: string;
  id?: string;
  ok?: boolean;
  error?: string;
  [key: string]: unknown;
}

export interface Reply {
  msg: Message;
  buffers: DataView[];
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called for intermediate messages with the request's id (e.g. action_progress). */
  onProgress?: (msg: Message, buffers: DataView[]) => void;
}

/** Message kinds that share a request's id but do not end it. */
export const PROGRESS_KINDS: ReadonlySet<string> = new Set(["action_progress"]);

export class RpcError extends Error {
  constructor(
    message: string,
    readonly reply?: Message,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

let counter = 0;

/** A request id unique in this page. */
export function newId(): string {
  const rand =
    typeof crypto !== "undefined" && "randomUUID" in crypto
      ? crypto.randomUUID()
      : Math.random().toString(36).slice(2);
  counter += 1;
  return `${rand}-${counter}`;
}

/**
 * Send `msg` (an id is added) and resolve with the reply that repeats the id.
 * Rejects on `ok: false`, on timeout and on abort; the listener is removed either way.
 */
export function request(
  model: AnyModel,
  msg: Omit<Message, "id">,
  buffers?: ArrayBuffer[] | ArrayBufferView[],
  { timeoutMs = 30_000, signal, onProgress }: RequestOptions = {},
): Promise<Reply> {
  const id = newId();
  return new Promise<Reply>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      model.off("msg:custom", listener);
      signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          done(() =>
            reject(new RpcError(`no reply to ${msg.kind} in ${timeoutMs} ms`)),
          ),
        timeoutMs,
      );
    };
    const onAbort = (): void =>
      done(() => reject(new RpcError(`${msg.kind} cancelled`)));
    const listener = (reply: Message, bufs: DataView[]): void => {
      if (!reply || reply.id !== id) return;
      if (PROGRESS_KINDS.has(reply.kind)) {
        arm(); // progress proves the kernel is working: restart the clock
        onProgress?.(reply, bufs ?? []);
        return;
      }
      if (reply.ok === false) {
        const text = reply.error || `${msg.kind} failed`;
        done(() => reject(new RpcError(text, reply)));
      } else done(() => resolve({ msg: reply, buffers: bufs ?? [] }));
    };
    if (signal?.aborted) return reject(new RpcError(`${msg.kind} cancelled`));
    model.on("msg:custom", listener);
    signal?.addEventListener("abort", onAbort);
    arm();
    try {
      model.send({ ...msg, id }, undefined, buffers);
    } catch (err) {
      done(() => reject(err instanceof Error ? err : new RpcError(String(err))));
    }
  });
}

export type Handler = (msg: Message, buffers: DataView[]) => void;

/**
 * Route unsolicited messages (no id) to handlers by kind. Returns a function that
 * removes the listener. `onError` receives handler exceptions and `ok: false` pushes.
 */
export function dispatch(
  model: AnyModel,
  handlers: Record<string, Handler>,
  onError: (err: unknown) => void,
): () => void {
  const listener = (msg: Message, buffers: DataView[]): void => {
    if (!msg || typeof msg !== "object" || msg.id) return;
    if (msg.ok === false)
      return onError(new RpcError(msg.error || `${msg.kind} failed`, msg));
    const handler = handlers[msg.kind];
    if (!handler) return;
    try {
      handler(msg, buffers ?? []);
    } catch (err) {
      onError(err);
    }
  };
  model.on("msg:custom", listener);
  return () => model.off("msg:custom", listener);
}
