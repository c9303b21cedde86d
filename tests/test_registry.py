"""The norm registry is executable: every entry has its numpy reference, its fast kernel path, its
torch module with a torch reference op, and they all compute the same thing. Plus the two arrows
the architecture never draws: the library never imports the pages (or streamlit), and the
readable numpy reference never needs torch.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from normviz.norms import NORMS, REFERENCES, normalize, normalize_weight
from normviz.norms.spec import FAMILIES
from normviz.norms.torch_modules import MODULES, TORCH_REFERENCES, make_norm, normed_layer

ROOT = Path(__file__).resolve().parent.parent
PARAM_KINDS = {"divisor_C", "divisor_N", "unit", "simplex", "real", "positive", "at_least_1", "non_negative"}


def params_for(key: str, C: int, rng) -> dict:
    """Random legal values of every parameter of ``key`` (divisors picked to fit the shape)."""
    out = {}
    for p in NORMS[key].params:
        if p.kind == "divisor_C":
            out[p.name] = 3
        elif p.kind == "divisor_N":
            out[p.name] = 2
        elif p.kind == "unit":
            out[p.name] = rng.uniform(0, 1, C)
        elif p.kind == "simplex":
            w = rng.uniform(0.1, 1, 3)
            out[p.name] = w / w.sum()
        elif p.kind == "real":
            out[p.name] = rng.normal(0, 1, C) if p.per_channel else float(rng.normal())
        elif p.kind == "positive":
            out[p.name] = rng.uniform(0.5, 2, C) if p.per_channel else float(rng.uniform(0.5, 2))
        else:
            out[p.name] = float(rng.uniform(p.low if p.low is not None else 0, p.high if p.high is not None else 3))
    return out


def test_table_references_torch_references_and_modules_cover_the_same_keys():
    assert set(NORMS) == set(REFERENCES) == set(MODULES) == set(TORCH_REFERENCES)
    for key, spec in NORMS.items():
        assert MODULES[key].__name__ == spec.module and MODULES[key].key == key
        assert spec.family in FAMILIES and spec.kind in ("activation", "weight", "stateful")
        assert spec.short and spec.description and spec.pools and spec.formula and spec.paper and spec.arxiv
        assert spec.train_eval and spec.erases and spec.erases_why, key
        assert all(p.kind in PARAM_KINDS and p.help and p.label for p in spec.params), key
        assert all(part in NORMS for part in spec.mixes) and bool(spec.mixes) == spec.is_mixture, key
        assert spec.mix in (("outputs", "statistics") if spec.is_mixture else ("",)), key
        assert set(spec.dims) <= {1, 2} and (spec.dims == (1, 2) or spec.dims_why), key
        assert r"\gamma" in spec.formula or spec.is_weight, f"{key}: the formula shows the affine step"


@pytest.mark.parametrize("key", [k for k, s in NORMS.items() if not s.is_weight])
def test_fast_kernel_reference_and_torch_reference_agree(key):
    rng = np.random.default_rng(list(NORMS).index(key))
    x = rng.normal(0, 1, (4, 6, 5, 5)) * rng.uniform(0.5, 2, (1, 6, 1, 1)) + rng.normal(0, 2, (1, 6, 1, 1))
    p = params_for(key, 6, rng)
    fast = normalize(x, key, **p)
    ref = REFERENCES[key](x, 1e-5, **p)
    tor = TORCH_REFERENCES[key](torch.from_numpy(x), 1e-5, **p).numpy()
    np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ref, tor, rtol=0, atol=1e-10)


@pytest.mark.parametrize("key", [k for k, s in NORMS.items() if s.is_weight])
def test_weight_norms_agree_too(key):
    w = np.random.default_rng(3).normal(size=(5, 3, 3, 3))
    ref = REFERENCES[key](w)
    np.testing.assert_allclose(normalize_weight(w, key), ref, atol=1e-12)
    np.testing.assert_allclose(TORCH_REFERENCES[key](torch.from_numpy(w)).numpy(), ref, atol=1e-12)


@pytest.mark.parametrize("key", [k for k, s in NORMS.items() if not s.is_weight])
def test_every_module_trains_and_matches_the_kernel_in_training_mode(key):
    """The factory builds each norm for each layout it supports; in training mode, with γ = 1 and
    β = 0, the conv module's output is the kernel's (registry defaults for every parameter that
    the factory does not set)."""
    spec = NORMS[key]
    torch.manual_seed(0)
    for dims in spec.dims:
        mod = make_norm(key, 6, dims=dims, groups=3, ghost_size=2).double().train()
        x = torch.randn((4, 6, 5, 5) if dims == 2 else (4, 6), dtype=torch.float64, requires_grad=True)
        y = mod(x)
        y.square().mean().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all(), (key, dims)
    if 2 in spec.dims and spec.family != "elementwise":
        mod = make_norm(key, 6, dims=2, groups=3, ghost_size=2, **_module_opts(key)).double().train()
        x = torch.randn(4, 6, 5, 5, dtype=torch.float64)
        kw = {k: v for k, v in ({"groups": 3, "ghost_size": 2} | _module_opts(key)).items() if k in spec.param_names}
        want = normalize(x.numpy(), key, eps=mod.eps, **_kernel_params(key, mod, kw))  # before the buffers move
        with torch.no_grad():
            got = mod(x).numpy()
        np.testing.assert_allclose(got, want, atol=1e-10, err_msg=key)


def _module_opts(key: str) -> dict:
    """Batch Renorm's module takes its clip bounds; FRN's module adds its TLU, which the kernel
    (the normalization alone) does not have."""
    return {"batch_renorm": {"r_max": 3.0, "d_max": 5.0}, "frn": {"tlu": False}}.get(key, {})


def _kernel_params(key: str, mod, kw: dict) -> dict:
    """The parameters the module's current state stands for, as normalize takes them."""
    out = dict(kw)
    for name in NORMS[key].param_names:
        if hasattr(mod, name) and name not in out:
            v = getattr(mod, name)
            out[name] = v.detach().numpy() if torch.is_tensor(v) else v
    if NORMS[key].kind == "stateful":
        out |= {"running_mean": mod.running_mean.clone().numpy(), "running_std": mod.running_std.clone().numpy()}
    if NORMS[key].mix == "statistics":
        out |= {"mean_weights": mod.mean_weights.numpy(), "var_weights": mod.var_weights.numpy()}
    return out


def test_weight_norm_wrappers_come_from_the_registry():
    for key, spec in NORMS.items():
        if spec.is_weight:
            layer, after = normed_layer(key, torch.nn.Conv2d(3, 4, 3), 4, dims=2)
            assert type(layer).__name__ == spec.module and isinstance(after, torch.nn.Identity)


# --- the architecture's two never-arrows --------------------------------------------------------

def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_library_never_imports_streamlit_or_the_pages():
    for path in (ROOT / "normviz").rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[0] in ("streamlit", "app_pages")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_numpy_reference_never_needs_torch():
    assert not {m for m in _imports(ROOT / "normviz" / "norms" / "reference.py") if m.startswith("torch")}
    code = ("import sys; sys.modules['torch'] = None\n"  # any import of torch would now fail
            "from normviz.norms import REFERENCES, normalize\nimport numpy as np\n"
            "x = np.random.default_rng(0).normal(size=(2, 4, 3, 3))\n"
            "print(all(np.allclose(normalize(x, k), REFERENCES[k](x)) for k in ('batch', 'layer', 'pono')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_every_formula_links_to_the_glossary_entries_it_uses():
    from normviz.glossary import GLOSSARY, symbols_in

    anchors = [s.anchor for s in GLOSSARY]
    assert len(set(anchors)) == len(anchors)
    for key, spec in NORMS.items():
        used = {s.anchor for s in symbols_in(spec.formula)}
        assert "x" in used, key
        assert (("gamma" in used) and ("beta" in used)) or spec.is_weight, f"{key}: affine step"
    assert {s.anchor for s in symbols_in(NORMS["batch_renorm"].formula)} >= {"r", "d", "mu", "sigma2"}
    assert "G" in {s.anchor for s in symbols_in(NORMS["group"].formula)}
    assert "w" not in {s.anchor for s in symbols_in(NORMS["batch"].formula)}  # the letter w of "n, h, w" is no weight
