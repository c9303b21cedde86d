"""The URL state machinery: parse, validate, fall back with a notice, round-trip."""
from dataclasses import dataclass

import pytest
from hypothesis import given, strategies as st

from normviz.state import PageState, param


@dataclass(frozen=True)
class Demo(PageState):
    norm: str = param("group", choices=("batch", "layer", "group"))
    C: int = param(6, lo=1, hi=64)
    G: int = param(2, lo=1, hi=64)
    eps: float = param(1e-5, lo=0.0, hi=1.0)
    show: bool = param(False)
    shape: tuple[int, ...] = param((2, 6, 4, 4), lo=1, hi=64)
    seed: int | None = param(None, lo=0, hi=2**31 - 1)

    def validate(self):
        if self.C % self.G:
            return self.replace(G=1), [f"G={self.G} does not divide C={self.C}; using G=1."]
        return self, []


def test_defaults_give_empty_query():
    state, notices = Demo.from_query({})
    assert state == Demo() and notices == []
    assert state.to_query() == {}


def test_valid_values_are_applied():
    state, notices = Demo.from_query({"norm": "batch", "C": "8", "G": "4", "show": "1",
                                      "shape": "1,8,3,3", "eps": "0.001", "seed": "7"})
    assert notices == []
    assert (state.norm, state.C, state.G, state.show, state.shape, state.eps, state.seed) == \
        ("batch", 8, 4, True, (1, 8, 3, 3), 0.001, 7)


@pytest.mark.parametrize("name, raw, expect", [
    ("norm", "<script>alert(1)</script>", "must be one of batch, layer, group"),
    ("C", "abc", "must be a whole number"),
    ("C", "0", "must be at least 1"),
    ("C", "1000", "must be at most 64"),
    ("eps", "nan", "must be a finite number"),
    ("show", "maybe", "must be true or false"),
    ("shape", "1,2,x", "must be a whole number"),
    ("C", "9" * 500, "too long"),
])
def test_invalid_values_fall_back_with_a_notice_naming_the_parameter(name, raw, expect):
    state, notices = Demo.from_query({name: raw})
    assert getattr(state, name) == getattr(Demo(), name)
    assert len(notices) == 1 and f"'{name}'" in notices[0] and expect in notices[0]
    assert "<script>alert(1)</script>" not in notices[0] or "'<script>" in notices[0]


def test_cross_field_rule_replaces_with_notice():
    state, notices = Demo.from_query({"C": "6", "G": "4"})
    assert state.G == 1 and "does not divide" in notices[0]


def test_lock_accepts_known_fields_only():
    state, notices = Demo.from_query({"lock": "norm,C,bogus"})
    assert state.lock == ("norm", "C") and state.is_locked("norm") and not state.is_locked("G")
    assert "bogus" in notices[0]


def test_list_values_take_the_last():
    state, _ = Demo.from_query({"C": ["4", "8"], "G": ["2"]})
    assert state.C == 8


@given(norm=st.sampled_from(["batch", "layer", "group"]), C=st.integers(1, 64),
       eps=st.floats(0, 1), show=st.booleans(),
       shape=st.lists(st.integers(1, 64), min_size=1, max_size=4).map(tuple),
       seed=st.none() | st.integers(0, 2**31 - 1))
def test_round_trip(norm, C, eps, show, shape, seed):
    state = Demo(norm=norm, C=C, G=1, eps=eps, show=show, shape=shape, seed=seed)
    back, notices = Demo.from_query(state.to_query())
    assert notices == [] and back == state
