// A stand-in for anywidget's model in a plain page: the other end is a real
// kernel-side widget reached through the harness server (tests/browser/_harness.py).
// Trait updates and custom messages arrive as server-sent events; what the panel
// sends is POSTed back in order.

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function asBytes(buffer) {
  if (buffer instanceof Uint8Array) return buffer;
  if (ArrayBuffer.isView(buffer)) {
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  return new Uint8Array(buffer);
}

function putBuffers(state, paths, buffers) {
  paths.forEach((path, i) => {
    let obj = state;
    for (const key of path.slice(0, -1)) obj = obj[key];
    obj[path[path.length - 1]] = new DataView(buffers[i].buffer);
  });
}

export class FakeModel {
  constructor(modelId, state) {
    this.modelId = modelId;
    this.state = { ...state };
    this.listeners = new Map();
    this.dirty = {};
    this.sent = []; // every message the panel sent, for assertions
    this.received = []; // every custom message delivered to the panel
    this.chain = Promise.resolve();
  }

  get(key) {
    return this.state[key];
  }

  set(key, value) {
    this.state[key] = value;
    this.dirty[key] = value;
    this.emit(`change:${key}`, value);
    this.emit("change");
  }

  save_changes() {
    const changes = this.dirty;
    this.dirty = {};
    if (Object.keys(changes).length === 0) return;
    this.post({ method: "update", state: changes, buffer_paths: [] }, []);
  }

  send(content, _callbacks, buffers) {
    this.post({ method: "custom", content }, buffers || []);
  }

  on(name, callback) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(callback);
  }

  off(name, callback) {
    if (name === undefined || name === null) {
      if (callback === undefined) this.listeners.clear();
      else for (const set of this.listeners.values()) set.delete(callback);
      return;
    }
    if (callback === undefined) this.listeners.delete(name);
    else this.listeners.get(name)?.delete(callback);
  }

  listenerCount() {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  emit(name, ...args) {
    for (const callback of [...(this.listeners.get(name) || [])]) {
      callback(...args);
    }
  }

  post(data, buffers) {
    const record = { data, buffers: buffers.map((b) => Array.from(asBytes(b))) };
    this.sent.push(record);
    const body = JSON.stringify({
      data,
      buffers: buffers.map((b) => toBase64(asBytes(b))),
    });
    // One at a time, so the kernel sees messages in the order the panel sent them.
    this.chain = this.chain.then(() =>
      fetch(`/send/${this.modelId}`, { method: "POST", body }).then((r) => {
        if (!r.ok) throw new Error(`harness refused a message: ${r.status}`);
      }),
    );
  }

  // Kernel → page.
  deliver(event) {
    const data = event.data;
    const buffers = (event.buffers || []).map(fromBase64);
    if (data.method === "update") {
      putBuffers(data.state, data.buffer_paths || [], buffers);
      for (const [key, value] of Object.entries(data.state)) {
        this.state[key] = value;
        this.emit(`change:${key}`, value);
      }
      this.emit("change");
    } else if (data.method === "custom") {
      const views = buffers.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength));
      this.received.push({ content: data.content, nbytes: buffers.map((b) => b.length) });
      this.emit("msg:custom", data.content, views);
    }
    // "echo_update" needs nothing: the page already holds what it sent.
  }
}

function connect(modelId) {
  return new Promise((resolve, reject) => {
    const source = new EventSource(`/events/${modelId}`);
    let model = null;
    source.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (model === null) {
        model = new FakeModel(modelId, event.data.state);
        resolve({ model, source });
      } else {
        model.deliver(event);
      }
    };
    source.onerror = () => {
      if (model === null) reject(new Error("harness event stream failed"));
    };
  });
}

export async function mount(host, modelId) {
  const { model, source } = await connect(modelId);
  const module = await import("/widget.js");
  let widget = module.default;
  if (typeof widget === "function") widget = await widget();
  const experimental = {
    invoke: () => Promise.reject(new Error("invoke is not available in the harness")),
  };
  if (widget.initialize) await widget.initialize({ model, experimental });

  const api = { model, source, views: 0, cleanup: null, controller: null };
  api.render = async () => {
    const el = document.createElement("div");
    el.className = "harness-view";
    host.appendChild(el);
    api.controller = new AbortController();
    api.cleanup =
      (await widget.render({ model, el, signal: api.controller.signal, experimental })) ||
      null;
    api.el = el;
    api.views += 1;
  };
  api.destroy = async () => {
    api.controller?.abort();
    if (typeof api.cleanup === "function") await api.cleanup();
    api.cleanup = null;
    api.el?.remove();
  };
  window.__harness = api;
  await api.render();
  window.__harnessReady = true;
  return api;
}
