"""Driving the app with Streamlit's AppTest: open a page the way a user arrives through a link, click, read."""

import io
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def open_page(page: str, query_params: dict | None = None, timeout: int = 180) -> AppTest:
    """Open the app, then `pages/<page>` with these URL settings (as a shared link does)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    return at.switch_page(f"pages/{page}").run()


def lab(query_params: dict | None = None) -> AppTest:
    return open_page("attack_lab.py", query_params)


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label.startswith(label)).click()
    return at.run()


def metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def png(width=40, height=30, mode="RGB", color=(230, 230, 230), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), color).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(at: AppTest, data: bytes, name="image.png") -> AppTest:
    at.radio(key="lab:source").set_value("Upload your own image").run()
    at.file_uploader(key="upload").set_value((name, data, "image/png"))
    return at.run()
