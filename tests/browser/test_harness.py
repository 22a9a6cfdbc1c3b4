"""The harness itself: a toy anywidget round-trips traits and binary messages."""

from __future__ import annotations

import anywidget
import traitlets
from playwright.sync_api import Page, expect

from ._harness import Harness

TOY_ESM = """
export default {
  render({ model, el }) {
    const button = document.createElement("button");
    button.dataset.testid = "toy";
    const draw = () => { button.textContent = `count=${model.get("count")}`; };
    draw();
    const onCustom = (msg, buffers) => {
      const bytes = new Uint8Array(buffers[0].buffer, buffers[0].byteOffset,
                                   buffers[0].byteLength);
      el.dataset.reply = `${msg.kind}:${Array.from(bytes).join(",")}`;
    };
    model.on("change:count", draw);
    model.on("msg:custom", onCustom);
    button.onclick = () => {
      model.set("label", "clicked");
      model.save_changes();
      model.send({ kind: "bump" }, undefined, [new Uint8Array([7, 8, 9])]);
    };
    el.appendChild(button);
    return () => { model.off("change:count", draw); model.off("msg:custom", onCustom); };
  },
};
"""


class Toy(anywidget.AnyWidget):
    _esm = TOY_ESM
    count = traitlets.Int(0).tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)

    def __init__(self) -> None:
        super().__init__()
        self.got: list[bytes] = []
        self.on_msg(self._on_message)

    def _on_message(self, _widget, content, buffers) -> None:
        self.got.append(bytes(buffers[0]))
        self.count += 1
        self.send({"kind": "ack"}, buffers=[bytes([self.count, 255])])


def test_bridge_round_trip(page: Page) -> None:
    harness = Harness(esm=TOY_ESM)
    try:
        panel = harness.show(Toy)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(panel.url)
        button = page.get_by_test_id("toy")
        expect(button).to_have_text("count=0")
        button.click()
        expect(button).to_have_text("count=1")  # kernel trait change reached the page
        expect(page.locator(".harness-view")).to_have_attribute(
            "data-reply", "ack:1,255"
        )
        assert panel.get("label") == "clicked"  # page trait change reached the kernel
        assert panel.get("got") == [bytes([7, 8, 9])]
        panel.call(lambda w: setattr(w, "count", 41))
        expect(button).to_have_text("count=41")
        page.evaluate("() => window.__harness.destroy()")
        assert page.evaluate("() => window.__harness.model.listenerCount()") == 0
        assert not errors
    finally:
        harness.close()
