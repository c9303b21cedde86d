"""The transformer lab's URL state (``normviz.state`` machinery): up to four runs side by side.

The i-th item of ``norm``, ``placement``, ``depth``, ``lr``, ``warmup`` configures run i; steps
and seed are shared. ``?lock=norm,placement`` hides those controls from students.
"""
from __future__ import annotations

from dataclasses import dataclass

from normviz.state import PageState, fit_runs, param
from normviz.transformer.config import PLACEMENTS, PRESET_STEPS, PRESETS, token_norms

VIEWS = ("overview", "gradients", "residual", "tokens", "dyt", "experiments")
PER_RUN = ("norm", "placement", "depth", "lr", "warmup")
RUN_DEFAULTS = {"placement": "pre", "depth": 2, "lr": 3e-3, "warmup": 0}


@dataclass(frozen=True)
class TransformerLabState(PageState):
    norm: tuple[str, ...] = param(("layer", "layer", "none"), choices=token_norms, doc="norm of each run")
    placement: tuple[str, ...] = param(("pre", "post", "pre"), choices=tuple(PLACEMENTS),
                                       doc="pre- or post-norm, per run")
    depth: tuple[int, ...] = param((2, 2, 2), lo=1, hi=6, doc="blocks of each run")
    lr: tuple[float, ...] = param((3e-3, 3e-3, 3e-3), lo=1e-5, hi=1.0, doc="Adam learning rate of each run")
    warmup: tuple[int, ...] = param((0, 0, 0), lo=0, hi=2000, doc="linear warm-up steps of each run")
    steps: int = param(PRESET_STEPS["quick"], lo=10, hi=3000, doc="training steps of every run")
    seed: int = param(0, lo=0, hi=2**31 - 1, doc="random seed (initial weights, batches, test set)")
    preset: str = param("quick", choices=tuple(PRESETS) + ("custom",), doc="the preset the page opens on")
    view: str = param("overview", choices=VIEWS, doc="which charts are shown")

    @property
    def n_runs(self) -> int:
        return len(self.norm)

    def validate(self) -> tuple["TransformerLabState", list[str]]:
        return fit_runs(self, {"norm": "layer", **RUN_DEFAULTS}, runs="transformers")

    def run_settings(self, i: int) -> dict:
        """Run i's TransformerConfig fields."""
        return {"norm": self.norm[i], "placement": self.placement[i], "depth": self.depth[i], "lr": self.lr[i],
                "warmup": self.warmup[i], "steps": self.steps, "seed": self.seed}


def preset_state(key: str, state: TransformerLabState) -> TransformerLabState:
    """``state`` with the runs of preset ``key`` (config defaults for what the preset leaves open)."""
    from normviz.transformer.config import TransformerConfig

    base = TransformerConfig()
    runs = [{**{f: getattr(base, f) for f in PER_RUN}, **r} for r in PRESETS[key][1]]
    return state.replace(**{f: tuple(r[f] for r in runs) for f in PER_RUN}, preset=key,
                         steps=PRESET_STEPS.get(key, base.steps))
