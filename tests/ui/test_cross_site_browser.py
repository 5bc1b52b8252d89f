"""A page on another site, in real headless Chromium, cannot upload, delete or generate on the server;
the same requests from the server's own origin work. (No API keys: the browser guard alone.)"""

from __future__ import annotations

import base64
import io
import shutil
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.support.http_server import serve
from tests.support.live_server import live_server

pytestmark = pytest.mark.browser

ATTACK = """async ([base, wav]) => {
  const bytes = Uint8Array.from(atob(wav), c => c.charCodeAt(0));
  const form = new FormData();
  form.append("voice_file", new Blob([bytes], {type: "audio/wav"}), "narrator.wav");
  form.append("overwrite", "true");
  const tries = {  // one after the other
    upload: () => fetch(base + "/api/v1/voice", {method: "POST", body: form, mode: "no-cors"}),
    speak: () => fetch(base + "/api/v1/tts?response_mode=url", {method: "POST", mode: "no-cors",
      headers: {"Content-Type": "text/plain"}, body: JSON.stringify({text: "owned", engine: "piper"})}),
    remove: () => fetch(base + "/api/v1/voice/narrator.wav?confirm=true", {method: "DELETE"}),
  };
  const out = {};
  for (const [name, request] of Object.entries(tries)) {
    try { const r = await request(); out[name] = r.type === "opaque" ? "opaque" : r.status; }
    catch (e) { out[name] = "blocked"; }
  }
  return out;
}"""


def test_another_site_cannot_drive_the_server_but_its_own_pages_can(
    browser: Any, tmp_path: Path, speech_wav: Path
) -> None:
    data = tmp_path / "server"
    (data / "voices").mkdir(parents=True)
    shutil.copy(speech_wav, data / "voices" / "narrator.wav")
    original = (data / "voices" / "narrator.wav").read_bytes()
    tone = io.BytesIO()  # what the attacker would put in place of narrator.wav: 2 s of a 220 Hz tone
    sf.write(tone, 0.3 * np.sin(2 * np.pi * 220 * np.arange(44_100) / 22_050), 22_050, format="WAV")
    wav = base64.b64encode(tone.getvalue()).decode()
    page_html = b"<!doctype html><title>another site</title><p>nothing to see</p>"
    with (
        live_server(data, CHATTERBOX_ENGINES__DEFAULT="piper") as base,
        serve({"/": (200, {"Content-Type": "text/html"}, page_html, 0.0)}) as elsewhere,
    ):
        page = browser.new_page()
        page.goto(elsewhere + "/")  # another loopback port: another origin, the same site
        page.evaluate(ATTACK, [base, wav])
        assert (data / "voices" / "narrator.wav").read_bytes() == original  # neither replaced nor deleted
        assert httpx.get(f"{base}/api/v1/outputs").json()["count"] == 0  # nothing generated

        page.goto(base + "/health")  # the server's own origin
        own = page.evaluate(ATTACK, [base, wav])
        assert own == {"upload": 200, "speak": 200, "remove": 200}
        assert not (data / "voices" / "narrator.wav").exists()  # replaced, then deleted, as asked
        assert httpx.get(f"{base}/api/v1/outputs").json()["count"] > 0  # spoken
        page.close()
