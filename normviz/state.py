"""Page state that round-trips through the URL (the TensorFlow Playground way).

Each page has one frozen dataclass listing every control once, with its default and its rule
(range or choices). ``from_query`` turns URL query parameters into a valid state plus a list of
notices for the values it had to replace; ``to_query`` writes the state back (defaults are left
out, so links stay short). Nothing here imports streamlit: pages do the glue
(``pages/_shared.py``), and everything can be tested without a browser.

Declare a field with :func:`param`::

    @dataclass(frozen=True)
    class CubeState(PageState):
        norm: str = param("group", choices=lambda: ACTIVATION_NORMS)
        C: int = param(6, lo=1, hi=64)

Every state also has ``lock``: field names a teacher hides from students (``?lock=norm,C``).
"""
from __future__ import annotations

import math
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, Callable, Iterable, Mapping

MAX_VALUE_CHARS = 200  # longer URL values are hostile or broken; never parse them


def param(default, *, lo=None, hi=None, choices: Iterable | Callable[[], Iterable] | None = None,
          doc: str = ""):
    """A state field: its default, its bounds (``lo``/``hi``, inclusive) or its ``choices``.

    ``choices`` may be a callable so registries can be read lazily. For tuple fields the
    bounds and choices apply to every item.
    """
    return field(default=default, metadata={"lo": lo, "hi": hi, "choices": choices, "doc": doc})


def _choices(meta) -> list | None:
    c = meta.get("choices")
    if c is None:
        return None
    return list(c() if callable(c) else c)


def _short(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _parse_scalar(text: str, typ: type):
    text = text.strip()
    if typ is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError("must be true or false")
    if typ is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if typ is float:
        try:
            v = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v
    return text


def _check_rule(value, meta):
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and value < lo:
        raise ValueError(f"must be at least {lo}")
    if hi is not None and value > hi:
        raise ValueError(f"must be at most {hi}")
    choices = _choices(meta)
    if choices is not None and value not in choices:
        shown = ", ".join(map(str, choices[:12])) + (", ..." if len(choices) > 12 else "")
        raise ValueError(f"must be one of {shown}")
    return value


def _field_type(cls, name: str):
    hints = typing.get_type_hints(cls)
    return hints[name]


def _parse(text: str, typ, meta):
    origin = typing.get_origin(typ)
    if origin is tuple:
        item = typing.get_args(typ)[0]
        if text.strip() == "":
            return ()
        return tuple(_check_rule(_parse_scalar(t, item), meta) for t in text.split(","))
    if origin in (typing.Union, types.UnionType):  # Optional[X]: "" or "none" means None
        inner = [a for a in typing.get_args(typ) if a is not type(None)][0]
        if text.strip().lower() in ("", "none"):
            return None
        return _check_rule(_parse_scalar(text, inner), meta)
    return _check_rule(_parse_scalar(text, typ), meta)


def _format(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(_format(v) for v in value)
    if value is None:
        return "none"
    if isinstance(value, float):
        return repr(round(value, 10)).removesuffix(".0") if value == int(value) and abs(value) < 1e15 else repr(value)
    return str(value)


@dataclass(frozen=True)
class PageState:
    """Base of every page state: the URL round trip and the teacher's ``lock`` list."""

    lock: tuple[str, ...] = param((), doc="controls hidden from students")

    # -- URL -> state ---------------------------------------------------------------------------
    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> tuple["PageState", list[str]]:
        """Parse query parameters; invalid values fall back to defaults with a notice.

        ``params`` maps names to strings (or lists of strings: the last one counts). Unknown
        names are ignored: they may belong to another page.
        """
        values, notices = {}, []
        names = {f.name for f in fields(cls)}
        for f in fields(cls):
            if f.name not in params:
                continue
            raw = params[f.name]
            if isinstance(raw, (list, tuple)):
                raw = raw[-1] if raw else ""
            raw = str(raw)
            default = f.default if f.default is not MISSING else None
            if len(raw) > MAX_VALUE_CHARS:
                notices.append(f"URL parameter '{f.name}' is too long ({len(raw)} characters); "
                               f"using the default {_format(default)!r}.")
                continue
            try:
                value = _parse(raw, _field_type(cls, f.name), f.metadata)
                if f.name == "lock":
                    bad = [v for v in value if v not in names or v == "lock"]
                    if bad:
                        notices.append(f"URL parameter 'lock' names unknown control(s) "
                                       f"{', '.join(map(_short, bad))}; ignored them.")
                        value = tuple(v for v in value if v not in bad)
                values[f.name] = value
            except ValueError as err:
                notices.append(f"URL parameter '{f.name}' = {_short(raw)} {err}; using the default "
                               f"{_format(default)!r}.")
        state = cls(**values)
        state, more = state.validate()
        return state, notices + more

    def validate(self) -> tuple["PageState", list[str]]:
        """Cross-field rules (e.g. G must divide C); override in pages that have them.

        Returns the corrected state and a notice for each value it changed.
        """
        return self, []

    # -- state -> URL ---------------------------------------------------------------------------
    def to_query(self) -> dict[str, str]:
        """Query parameters for this state, leaving out values equal to their default."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.default is not MISSING and value == f.default:
                continue
            out[f.name] = _format(value)
        return out

    def replace(self, **changes) -> "PageState":
        return replace(self, **changes)

    def is_locked(self, name: str) -> bool:
        return name in self.lock

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def choices(cls, name: str) -> list | None:
        """The allowed values of a field (for building a selectbox)."""
        return _choices(next(f for f in fields(cls) if f.name == name).metadata)

    @classmethod
    def bounds(cls, name: str) -> tuple:
        meta = next(f for f in fields(cls) if f.name == name).metadata
        return meta.get("lo"), meta.get("hi")
