"""Page state that round-trips through the URL (the TensorFlow Playground way).

Each page has one frozen dataclass listing every control once, with its default and its rule
(range or choices). ``from_query`` turns URL query parameters into a valid state plus a list of
notices for the values it had to replace; ``to_query`` writes the state back (defaults are left
out, so links stay short). Nothing here imports streamlit: pages do the glue
(``app_pages/_shared.py``), and everything can be tested without a browser.

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
from dataclasses import MISSING, dataclass, field, fields, make_dataclass, replace
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


# --- image lab ---

IMAGE_LAB_VIEWS = ("side", "erase", "coupling", "stats", "feature", "style")
_IMAGE_SAMPLES = ("china", "flower", "gradient", "checkerboard", "china_cast", "flower_low_contrast")


def _image_views() -> list[str]:
    from normviz.images.views import all_views

    return list(all_views())


def _default_image_views() -> tuple[str, ...]:
    from normviz.images.views import default_views

    return default_views()


@dataclass(frozen=True)
class ImageLabState(PageState):
    """Image lab controls. Images are referred to by their position in the batch (uploads
    first, then the chosen samples); uploaded files themselves cannot live in a URL."""

    view: str = param("side", choices=IMAGE_LAB_VIEWS, doc="which of the six views is open")
    samples: tuple[str, ...] = param(_IMAGE_SAMPLES, choices=_IMAGE_SAMPLES,
                                     doc="bundled images in the batch")
    camera: bool = param(False, doc="show the camera input")
    norms: tuple[str, ...] = param(_default_image_views(), choices=_image_views, doc="views shown side by side")
    groups: int = param(3, choices=(1, 3), doc="GroupNorm G in pixel space (C = 3)")
    fgroups: int = param(9, choices=(1, 3, 9, 27), doc="GroupNorm G in feature space (C = 27)")
    rho: float = param(0.5, lo=0.0, hi=1.0, doc="Batch-Instance gate ρ (1 = BN, 0 = IN)")
    image: int = param(0, lo=0, hi=63, doc="the image studied (position in the batch)")
    a: float = param(2.0, lo=0.25, hi=4.0, doc="contrast a in a·x + b")
    b: float = param(0.1, lo=-1.0, hi=1.0, doc="brightness b in a·x + b")
    gain_r: float = param(1.3, lo=0.25, hi=4.0)
    gain_g: float = param(1.0, lo=0.25, hi=4.0)
    gain_b: float = param(0.7, lo=0.25, hi=4.0)
    clip: bool = param(False, doc="clip the changed image to [0, 1]")
    mates_a: tuple[str, ...] = param(("flower", "gradient"), choices=_IMAGE_SAMPLES)
    mates_b: tuple[str, ...] = param(("checkerboard", "china_cast", "flower_low_contrast"),
                                     choices=_IMAGE_SAMPLES)
    content: int = param(0, lo=0, hi=63)
    style: int = param(1, lo=0, hi=63)
    style2: int = param(-1, lo=-1, hi=63, doc="second style (−1 = none)")
    weight2: float = param(0.5, lo=0.0, hi=1.0)
    alpha: float = param(1.0, lo=0.0, hi=1.0)

    def validate(self) -> tuple["ImageLabState", list[str]]:
        notices = []
        state = self
        if len(set(self.samples)) != len(self.samples):
            state = replace(state, samples=tuple(dict.fromkeys(self.samples)))
        if not state.norms:
            notices.append("No norm was selected; showing all of them.")
            state = replace(state, norms=_default_image_views())
        return state, notices

    def clamp_images(self, n_images: int) -> tuple["ImageLabState", list[str]]:
        """Bring image indices inside a batch of ``n_images`` (known only on the page)."""
        changes, notices = {}, []
        for name in ("image", "content", "style"):
            v = getattr(self, name)
            if v >= n_images:
                changes[name] = min(n_images - 1, 0 if name != "style" else 1)
                notices.append(f"Image {v} is not in the batch of {n_images}; showing image "
                               f"{changes[name]} instead.")
        if self.style2 >= n_images:
            changes["style2"] = -1
            notices.append(f"Second style {self.style2} is not in the batch; none used.")
        return (replace(self, **changes) if changes else self), notices


# --- cube ---

CUBE_VIEWS = ("all", "numbers", "noise", "sequence")
_SEQ_KINDS = ("layer_D", "layer_LD", "rms_D", "batch_D")


def _all_norms():
    from normviz.norms import NORMS  # lazy: the registry imports numpy only

    return list(NORMS)


def _largest_divisor_at_most(n: int, k: int) -> int:
    return max(d for d in range(1, n + 1) if n % d == 0 and d <= max(1, k))


@dataclass(frozen=True)
class _CubeControls(PageState):
    """Cube explorer controls. Defaults follow the Group Norm paper's Figure 2: a small batch,
    C = 6, G = 2. For the weight norms the cube shows a C×cin×k×k weight and (n, c, h, w) are
    read as (o, i, kh, kw). Besides these, :class:`CubeState` has one field per number-valued
    parameter of the registry's norms (``r_max``, ...), named as the parameter."""

    norm: str = param("group", choices=_all_norms, doc="registry key of the norm shown")
    layout: str = param("paper", choices=("paper", "full"), doc="paper: N, C, H·W; full: N blocks of C×H×W")
    N: int = param(2, lo=1, hi=8)
    C: int = param(6, lo=1, hi=32)
    H: int = param(4, lo=1, hi=16)
    W: int = param(4, lo=1, hi=16)
    G: int = param(2, lo=1, hi=32, doc="GroupNorm groups (a divisor of C)")
    ghost: int = param(1, lo=1, hi=8, doc="Ghost BatchNorm ghost batch size (a divisor of N)")
    eps: float = param(1e-5, lo=0.0, hi=1.0)
    n: int = param(0, lo=0, hi=31)
    c: int = param(0, lo=0, hi=31)
    h: int = param(0, lo=0, hi=15)
    w: int = param(0, lo=0, hi=15)
    data: str = param("random", choices=("random", "image", "constant"))
    seed: int = param(0, lo=0, hi=2 ** 31 - 1)
    colour_all: bool = param(False, doc="one colour per statistic")
    rho: tuple[float, ...] = param((0.5,), lo=0.0, hi=1.0, doc="BIN gate: one value, or one per channel")
    sn_mode: str = param("logits", choices=("logits", "probabilities"))
    sn_mean: tuple[float, ...] = param((0.0, 0.0, 0.0), lo=-20.0, hi=20.0, doc="SN μ weights (IN, LN, BN)")
    sn_var: tuple[float, ...] = param((0.0, 0.0, 0.0), lo=-20.0, hi=20.0, doc="SN σ² weights (IN, LN, BN)")
    cin: int = param(3, lo=1, hi=16, doc="weight tensor: input channels")
    k: int = param(3, lo=1, hi=7, doc="weight tensor: kernel size")
    view: str = param("all", choices=CUBE_VIEWS, doc="panel under the cube")
    step: int = param(0, lo=0, hi=40, doc="walkthrough step, counted from 1 (0: the walkthrough is closed)")
    noise_data: str = param("digits", choices=("digits", "patches"))
    seq: str = param("layer_D", choices=_SEQ_KINDS)
    L: int = param(6, lo=1, hi=32)
    D: int = param(8, lo=1, hi=64)
    l: int = param(0, lo=0, hi=31)  # noqa: E741 - the token index is called l in the text
    d: int = param(0, lo=0, hi=63)

    @property
    def is_weight(self) -> bool:
        from normviz.norms.table import NORMS

        return NORMS[self.norm].is_weight

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """The tensor drawn: (N, C, H, W), or the weight (C_out, C_in, k, k) = (C, cin, k, k)."""
        return (self.C, self.cin, self.k, self.k) if self.is_weight else (self.N, self.C, self.H, self.W)

    @property
    def index(self) -> tuple[int, int, int, int]:
        return (self.n, self.c, self.h, self.w)

    def validate(self) -> tuple["_CubeControls", list[str]]:
        changes, notices = {}, []
        if self.C % self.G:
            g = _largest_divisor_at_most(self.C, self.G)
            legal = ", ".join(str(d) for d in range(1, self.C + 1) if self.C % d == 0)
            changes["G"] = g
            notices.append(f"G = {self.G} does not divide C = {self.C} (GroupNorm splits the channels into "
                           f"G equal groups); using G = {g}. Legal G for C = {self.C}: {legal}.")
        if self.N % self.ghost:
            g = _largest_divisor_at_most(self.N, self.ghost)
            changes["ghost"] = g
            notices.append(f"ghost batch size {self.ghost} does not divide N = {self.N}; using {g}.")
        shape = replace(self, **changes).shape
        axes = ("C_out", "C_in", "k", "k") if self.is_weight else ("N", "C", "H", "W")
        for name, size, axis in zip(("n", "c", "h", "w"), shape, axes):
            v = getattr(self, name)
            if v >= size:
                changes[name] = size - 1
                notices.append(f"Selected {name} = {v} is outside the tensor ({axis} = {size}); using {name} = {size - 1}.")
        if len(self.rho) not in (1, self.C):
            changes["rho"] = (self.rho[0],) if self.rho else (0.5,)
            notices.append(f"rho has {len(self.rho)} values but needs 1 (shared) or C = {self.C} (per channel); "
                           f"using one shared ρ = {changes['rho'][0]:g}.")
        for name in ("sn_mean", "sn_var"):
            v = getattr(self, name)
            if len(v) != 3 or (self.sn_mode == "probabilities" and min(v, default=0) < 0):
                changes[name] = (0.0, 0.0, 0.0) if self.sn_mode == "logits" else (1.0, 1.0, 1.0)
                notices.append(f"{name} needs 3 {'logits' if self.sn_mode == 'logits' else 'non-negative weights'} "
                               f"(IN, LN, BN), got {', '.join(map(str, v)) or 'none'}; using equal weights.")
        for name, size, axis in (("l", self.L, "L"), ("d", self.D, "D")):
            v = getattr(self, name)
            if v >= size:
                changes[name] = size - 1
                notices.append(f"Selected {name} = {v} is outside the sequence ({axis} = {size}); using {size - 1}.")
        if self.n >= self.N and self.view == "sequence" and "n" not in changes:
            changes["n"] = self.N - 1
        return (replace(self, **changes) if changes else self), notices


CUBE_PARAM_KINDS = ("real", "positive", "at_least_1", "non_negative")  # one number: a slider and a URL field


def _cube_param_fields() -> list[tuple]:
    """A field per number-valued norm parameter of the registry, so a new norm's parameter is in
    the cube's URL (and lockable) without touching this file."""
    from normviz.norms.table import NORMS

    out = {}
    for spec in NORMS.values():
        for p in spec.params:
            if p.kind in CUBE_PARAM_KINDS and p.name not in out:
                out[p.name] = (p.name, float, param(float(p.default), lo=p.low, hi=p.high, doc=p.help))
    return list(out.values())


CubeState = make_dataclass("CubeState", _cube_param_fields(), bases=(_CubeControls,), frozen=True)
CubeState.__doc__ = _CubeControls.__doc__
CubeState.__module__ = __name__


# --- training lab ---

TRAINING_PRESETS = ("custom", "bn_fig1", "gn_fig1")
TRAINING_VIEWS = ("overview", "distributions", "histograms", "bn_fig1", "sweep")
TRAINING_MODELS = ("mlp", "cnn")
MAX_RUNS = 4


def _training_norm_keys() -> list[str]:
    # Registry keys plus "none" and the composites of normviz.norms.torch_modules (not imported: it needs
    # torch). Which norms fit which model (MLP or CNN) is checked by the page.
    from normviz.norms import NORMS

    return ["none", *NORMS, "weight+mean_only", "weight_standardization+group", "weight_standardization+batch"]


@dataclass(frozen=True)
class TrainingLabState(PageState):
    """Training lab controls: up to four runs side by side (the i-th item of ``norm``, ``batch``,
    ``lr``, ``model``, ``init``, ``affine``, ``wd`` configures run i), shared steps and seed, preset and view."""

    norm: tuple[str, ...] = param(("none", "batch"), choices=_training_norm_keys, doc="norm of each run")
    batch: tuple[int, ...] = param((60, 60), lo=2, hi=512, doc="batch size of each run")
    lr: tuple[float, ...] = param((0.5, 0.5), lo=1e-5, hi=1000.0, doc="learning rate of each run")
    model: tuple[str, ...] = param(("mlp", "mlp"), choices=TRAINING_MODELS, doc="model of each run")
    init: tuple[float, ...] = param((0.1, 0.1), lo=1e-4, hi=10.0, doc="init std of each run's weights")
    affine: tuple[bool, ...] = param((True, True), doc="each run's norm learns γ, β (0: normalize only)")
    wd: tuple[float, ...] = param((0.0, 0.0), lo=0.0, hi=1.0, doc="weight decay of each run")
    steps: int = param(3000, lo=10, hi=20000, doc="training steps of every run")
    seed: int = param(0, lo=0, hi=2**31 - 1, doc="random seed (initial weights, data order)")
    preset: str = param("bn_fig1", choices=TRAINING_PRESETS, doc="the experiment the page opens on")
    view: str = param("bn_fig1", choices=TRAINING_VIEWS, doc="which charts are shown")

    @property
    def n_runs(self) -> int:
        return len(self.norm)

    def validate(self) -> tuple["TrainingLabState", list[str]]:
        return fit_runs(self, {"norm": "batch", "batch": 60, "lr": 0.5, "model": "mlp", "init": 0.1, "affine": True,
                               "wd": 0.0}, runs="configurations")


def fit_runs(state: PageState, defaults: dict, *, runs: str) -> tuple[PageState, list[str]]:
    """A lab state whose per-run fields (``defaults``: field -> value used when a list is empty) all
    have one item per run: the first field's list, cut to 1 … MAX_RUNS items (a notice, naming the
    ``runs``, says so), sets the number of runs; every other list is trimmed to it, or filled by
    repeating its last value (a short URL). Returns (state, notices)."""
    first, *rest = defaults
    changes, notices = {}, []
    lead = getattr(state, first)
    if not 1 <= len(lead) <= MAX_RUNS:
        changes[first] = (lead or (defaults[first],))[:MAX_RUNS]
        notices.append(f"The lab runs 1 to {MAX_RUNS} {runs} side by side; got {len(lead)}, "
                       f"using {len(changes[first])}.")
    n = len(changes.get(first, lead))
    for name in rest:
        v = getattr(state, name)
        if len(v) != n:
            changes[name] = tuple(v[:n]) + (v[-1] if v else defaults[name],) * max(0, n - len(v))
    return (replace(state, **changes) if changes else state), notices


# --- experiments ---


def _experiment_keys() -> list[str]:
    from normviz.experiments import EXPERIMENTS

    return list(EXPERIMENTS)


@dataclass(frozen=True)
class ExperimentsState(PageState):
    """Experiments page: which experiment, which seed's shipped results are shown, and the
    seed of a live run."""

    exp: str = param("bn_figure1", choices=_experiment_keys, doc="the experiment shown")
    seed: int = param(0, lo=0, hi=9999, doc="seed of a live run (and of the shipped results shown)")
