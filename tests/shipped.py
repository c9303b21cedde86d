"""The precomputed results in data/experiments/, as the claim tests read them."""
from normviz.experiments import EXPERIMENTS


def shipped_results(key: str, *, min_seeds: int = 2) -> dict:
    """The shipped full run of experiment ``key``; fails with how to make it if it is missing."""
    doc = EXPERIMENTS[key].precomputed()
    assert doc is not None, (f"data/experiments/{key}.json is missing: "
                             f"python -m normviz.experiments --precompute {key}")
    assert len(doc["seeds"]) >= min_seeds and not doc["quick"], "ship a full run over at least 2 seeds"
    return doc
