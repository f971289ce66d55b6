"""A class's server opens each ready lecture step once when it starts (`make class`), as a browser opening the
step's link would: the Attack Lab steps that compute on arrival compute then, and every drawing and figure a step
shows is made for all sessions (ui.resources.Shared). So the first time a class follows a link costs it no more
than the next (measured by bench/class_load.py)."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.request
from urllib.parse import urlencode

WARM_LINE = "hashdemo: the lecture's ready steps are open once"  # printed when done (bench/class_load.py waits)
NOT_WARM_LINE = "hashdemo: the lecture's steps could not be opened ahead"
PATIENCE_S = 600
WARM_STEPS = "HASHDEMO_WARM_STEPS"


async def open_link(ws_url: str, page: str, query: str) -> list[str]:
    """One session over Streamlit's websocket that asks for `page` with `query` and reads every element until its
    script ends, as a browser opening the link makes one (nothing drawn); returns the faults it was sent (an
    exception or an error alert, by kind)."""
    import websockets
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    faults = []
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
        ask = BackMsg()
        ask.rerun_script.page_name, ask.rerun_script.query_string = page, query
        await ws.send(ask.SerializeToString())
        while True:
            message = ForwardMsg()
            message.ParseFromString(await asyncio.wait_for(ws.recv(), PATIENCE_S))
            kind = message.WhichOneof("type")
            if kind == "script_finished":
                return faults
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                if element.WhichOneof("type") == "exception" or (
                    element.WhichOneof("type") == "alert" and element.alert.format == Alert.ERROR
                ):
                    faults.append(element.WhichOneof("type"))


def ready_links() -> list[tuple[str, str]]:
    """(page, query) of every lecture step whose results are ready (cached, or computed on arrival), as presented;
    only the step numbers in $HASHDEMO_WARM_STEPS (comma-separated) where it is set."""
    from ..experiments.lecture import LECTURE, status
    from .frame import PAGES, step_link

    only = os.environ.get(WARM_STEPS)
    wanted = {int(n) for n in only.split(",") if n.strip()} if only else set(range(1, len(LECTURE) + 1))
    out = []
    for number, step in enumerate(LECTURE, 1):
        if number in wanted and status(step).ready:
            page, params = step_link(number, present=True)
            out.append((next(p.url_path for p in PAGES if p.path == page), urlencode(params, doseq=True)))
    return out


def warm(port: int) -> None:
    """Once the server on `port` answers, open each ready step's link in turn; then print WARM_LINE."""
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=5) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
        if time.perf_counter() - start > PATIENCE_S:
            return
    try:
        links = ready_links()
        faults = [
            f"{page}: {fault}"
            for page, query in links
            for fault in asyncio.run(open_link(base.replace("http://", "ws://") + "/_stcore/stream", page, query))
        ]
    except Exception as exc:  # the server runs on without it: a class's first clicks are then slower, that is all
        print(f"{NOT_WARM_LINE}: {type(exc).__name__} {exc}", flush=True)
        return
    print(f"{WARM_LINE} ({len(links)} in {time.perf_counter() - start:.0f} s; faults: {faults or 'none'})", flush=True)
