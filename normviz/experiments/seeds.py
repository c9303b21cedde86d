"""What the shipped results say across seeds: never one seed alone.

An experiment ships a full run per seed. Its ``headline`` numbers become a table with one column
per seed and the range; each of its ``facts`` (a qualitative comparison, measured per run) gets
a count of the seeds where it holds, and that count is what the pages print ("in both seeds",
"in 1 of 2 seeds: seed 1").
"""
from __future__ import annotations

from dataclasses import dataclass

from normviz.experiments.base import Experiment


@dataclass(frozen=True)
class SeedFact:
    """One comparison and the shipped seeds where it holds."""

    statement: str
    holds_in: tuple[str, ...]
    seeds: tuple[str, ...]

    @property
    def all(self) -> bool:
        return len(self.holds_in) == len(self.seeds)

    @property
    def none(self) -> bool:
        return not self.holds_in

    def count(self) -> str:
        n, k = len(self.seeds), len(self.holds_in)
        if n == 1:
            return "in the one shipped run" if k else "not in the one shipped run"
        if k == n:
            return "in both seeds" if n == 2 else f"in all {n} seeds"
        if k == 0:
            return "in neither seed" if n == 2 else f"in none of the {n} seeds"
        return f"in {k} of {n} seeds (seed {', '.join(self.holds_in)})"

    def sentence(self) -> str:
        return f"{self.statement}: {'yes' if self.all else 'no' if self.none else 'mixed'}, {self.count()}."


def runs(doc: dict) -> dict[str, dict]:
    """seed -> results of a shipped document."""
    return {seed: run["results"] for seed, run in doc["runs"].items()}


def facts(spec: Experiment, doc: dict) -> list[SeedFact]:
    """Each fact of the experiment with the seeds where it holds (statements as the first seed
    words them; an experiment words a fact the same way on every seed)."""
    per_seed = {seed: spec.facts(res) for seed, res in runs(doc).items()}
    seeds = tuple(per_seed)
    if not seeds:
        return []
    statements = [t for t, _ in per_seed[seeds[0]]]
    for seed, fs in per_seed.items():
        if [t for t, _ in fs] != statements:
            raise ValueError(f"{spec.key}: seed {seed} words its facts differently from seed {seeds[0]}")
    return [SeedFact(t, tuple(s for s in seeds if per_seed[s][i][1]), seeds) for i, t in enumerate(statements)]


def claim_count(doc: dict) -> tuple[int, int]:
    """(seeds whose claim holds, seeds)."""
    holds = [run["claim"]["holds"] for run in doc["runs"].values()]
    return sum(holds), len(holds)


def headline_table(spec: Experiment, doc: dict) -> tuple[list[str], list[list]]:
    """Columns ["quantity", "seed s", ..., "range"] and one row per headline number."""
    per_seed = {seed: spec.headline(res) for seed, res in runs(doc).items()}
    seeds = list(per_seed)
    if not seeds or not per_seed[seeds[0]]:
        return [], []
    rows = []
    for name in per_seed[seeds[0]]:
        values = [per_seed[s].get(name) for s in seeds]
        nums = [v for v in values if isinstance(v, (int, float)) and v == v]
        spread = f"{min(nums):.4g} – {max(nums):.4g}" if len(nums) > 1 else ""
        rows.append([name, *values, spread])
    return ["quantity", *[f"seed {s}" for s in seeds], "range"], rows
