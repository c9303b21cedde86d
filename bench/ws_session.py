"""A Streamlit session without a browser: the websocket protocol a browser tab speaks, for load tests.

A browser tab opens ``/_stcore/stream`` (subprotocol "streamlit"), sends a ``BackMsg`` with
``rerun_script`` (the page, the query string and every widget's value) and receives ``ForwardMsg``s:
``new_session``, ``delta``s (the elements; a widget's ``id`` and label come in them) and
``script_finished``. This client does exactly that and nothing else: no React, no layout, no plotly.
So a hundred of these cost the load generator little, and the server's cost is what is measured
(30 headless Chromium tabs on a 2-core machine are themselves most of the load).

Widget values it sends: the ones set with :meth:`set`; others keep their server-side state
(session_state) as after a browser's first run.
"""
from __future__ import annotations

import asyncio
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


class WsSession:
    """One session: ``await s.open(page, query)``, then ``await s.rerun()`` after :meth:`set`."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.ws = None
        self.widgets: dict[str, tuple[str, str]] = {}  # label -> (widget id, element type)
        self.values: dict[str, tuple[str, object]] = {}  # widget id -> (value field, value)
        self.page = ""
        self.query = ""
        self.exceptions: list[str] = []
        self.texts: list[str] = []  # markdown bodies of the last run
        self.kinds: set[str] = set()  # element types drawn since the last press
        self.triggers: set[str] = set()  # buttons pressed since the last run
        self.auto: dict[str, float] = {}  # fragment id -> run_every seconds, as the server asked
        self.trace = False  # print every message's type (debugging)

    async def open(self, page: str, query: str = "", timeout: float = 300) -> float:
        """Connect and run ``page`` with ``query``; seconds until the run finished."""
        ws_url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(ws_url, subprotocols=["streamlit"], origin=self.base,
                                           max_size=None, open_timeout=timeout)
        self.page, self.query = page, query
        return await self.rerun(timeout)

    def set(self, label: str, value) -> None:
        wid, kind = self.widgets[label]
        field = {"number_input": "double_value", "slider": "double_array_value"}.get(kind, "string_value")
        if kind == "number_input" and isinstance(value, int):
            field = "int_value"
        self.values[wid] = (field, value)

    def press(self, label: str) -> None:
        """A button press: sent with the next rerun only (a trigger)."""
        self.triggers.add(self.widgets[label][0])
        self.kinds = set()

    async def rerun(self, timeout: float = 300, fragment_id: str = "") -> float:
        """Rerun the page (or one fragment, as the browser's ``run_every`` timer does); seconds
        until the run finished."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_name = self.page
        if fragment_id:
            state.fragment_id, state.is_auto_rerun = fragment_id, True
        for wid in self.triggers:
            w = state.widget_states.widgets.add()
            w.id, w.trigger_value = wid, True
        self.triggers = set()
        for wid, (field, value) in self.values.items():
            w = state.widget_states.widgets.add()
            w.id = wid
            setattr(w, field, value)
        self.texts = []
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        await asyncio.wait_for(self._until_finished(), timeout)
        return time.perf_counter() - t0

    async def _until_finished(self) -> None:
        fresh: dict[str, float] = dict(self.auto)
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            if self.trace:
                print(f"{time.perf_counter():.2f} {kind} {fwd.script_finished if kind == 'script_finished' else ''}")
            if kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "new_session":
                fresh: dict[str, float] = {}
            elif kind == "auto_rerun":
                self.auto[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
                fresh[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                self.auto.clear()
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                etype = el.WhichOneof("type")
                self.kinds.add(etype)
                if etype == "markdown":
                    self.texts.append(el.markdown.body)
                if etype == "exception":
                    self.exceptions.append(el.exception.message)
                inner = getattr(el, etype, None)
                label, wid = getattr(inner, "label", None), getattr(inner, "id", None)
                if label and wid:
                    self.widgets[label] = (wid, etype)
            elif kind == "script_finished":
                status = fwd.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:  # st.rerun(): the next run follows
                    continue
                if status == ForwardMsg.FINISHED_SUCCESSFULLY:
                    # A whole run re-registers its run_every fragments; the others are gone (the
                    # server skips a rerun of an unknown fragment without finishing anything).
                    self.auto = fresh
                return

    async def poll_until(self, done, timeout: float = 900) -> float:
        """Rerun the auto-rerun fragments at their intervals, as a browser tab does, until
        ``done(self)``; seconds waited."""
        t0 = time.perf_counter()
        while not done(self):
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(f"not done within {timeout:.0f} s")
            if not self.auto:  # nothing polls: a full rerun (a browser would sit still)
                await asyncio.sleep(0.5)
                await self.rerun()
                continue
            fid, every = next(iter(self.auto.items()))
            await asyncio.sleep(every)
            await self.rerun(fragment_id=fid)
        return time.perf_counter() - t0

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
