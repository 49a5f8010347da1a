"""The web reader in Debian's chromium (Playwright driving /usr/bin/chromium; nothing downloaded)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

pytest.importorskip("starlette", reason="the web reader needs the 'web' extra")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright-python is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("Debian chromium is not installed (apt-get install chromium)", allow_module_level=True)

from web_helpers import Server, invite  # noqa: E402

expect = sync_api.expect

FLAGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_reader_answers_with_keyboard_marks_a_point_and_resumes(tiny_session, tmp_path):
    token = invite(tiny_session.session_dir, "r1")
    server = Server(tiny_session.session_dir).start()
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            started = time.monotonic()
            page.goto(f"{server.base}/r/{token}")
            for number in range(1, 4):
                expect(page.locator("#progress")).to_have_text(re.compile(rf"^{number} /"), timeout=60_000)
                expect(page.locator("body")).to_have_attribute("data-shown", str(number), timeout=60_000)
                page.wait_for_timeout(1500 if number == 2 else 300)  # case 2 stays on screen >= 1.5 s
                if number == 1:
                    page.keyboard.press("m")
                    box = page.locator("#gl").bounding_box()
                    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.3)
                    expect(page.locator("#marks")).to_have_text(re.compile("^1 mark"))
                    shot = page.locator("#gl").screenshot()
                page.keyboard.press("s")
                page.keyboard.press("4")
                page.keyboard.press("2")
                page.keyboard.press("Enter")
            expect(page.locator("#progress")).to_have_text(re.compile("^4 /"), timeout=60_000)
            answering_s = time.monotonic() - started
            page.reload()
            expect(page.locator("#progress")).to_have_text(re.compile("^4 /"), timeout=60_000)
            assert page.locator("#progress").text_content().strip() == "4 / 6"
            browser.close()
    finally:
        server.stop()
    (tmp_path / "canvas.png").write_bytes(shot)
    import numpy as np
    import SimpleITK as sitk

    pixels = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "canvas.png")))
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20, "NiiVue canvas looks blank"
    rows = sqlite3.connect(tiny_session.database).execute(
        "SELECT answers FROM answers WHERE reader_id = 'r1' ORDER BY position").fetchall()
    stored = [json.loads(r[0]) for r in rows]
    assert len(stored) == 3 and all(a["call"] == {"choice": "synthetic", "confidence": 4} for a in stored)
    assert all(a["realism"] == 2 for a in stored)
    assert len(stored[0]["artefacts"]) == 1
    # how long each case was on screen, as the answers CSV exports it
    exported = tmp_path / "answers.csv"
    subprocess.run([sys.executable, "-m", "medsynth", "reading", "export", str(tiny_session.session_dir),
                    str(exported)], check=True, capture_output=True)
    with exported.open() as handle:
        mine = sorted((r for r in csv.DictReader(handle) if r["reader_id"] == "r1"), key=lambda r: int(r["position"]))
    durations = [float(r["duration_s"]) for r in mine]
    assert len(durations) == 3 and all(0.3 <= d <= answering_s for d in durations), (durations, answering_s)
    assert durations[1] >= 1.5 and sum(durations) <= answering_s
