"""γ and β: what BatchNorm's affine step gives back (Ioffe & Szegedy 2015, §3).

BN normalizes each channel over the batch, ``x̂ = (x − μ_B)/√(σ_B² + ε)``, then applies a learned
per-channel affine ``y = γ·x̂ + β``. With ``γ = √(σ_B² + ε)`` and ``β = μ_B`` the layer returns its
input exactly, so normalizing removes no function the network could compute: γ and β restore the
scale and shift the normalization took away (the paper's "can represent the identity transform").

The seed says: "what if increasing the magnitude of the weights made the network perform
better? … add γ and β". γ and β are not a way to make weights bigger; this experiment measures
what they do: the same CNN on the digits with BN with and without affine, γ and β per layer over
training (mean and spread over channels), and the identity check on a real batch.
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable

RUNS = ("affine", "no_affine")
LABELS = {"affine": "BN with γ, β", "no_affine": "BN without affine"}
SETTINGS = dict(widths=(16, 32), batch_size=32, lr=0.05, momentum=0.9)
STEPS, QUICK_STEPS = 1000, 20
SEED_QUOTE = ("what if increasing the magnitude of the weights made the network perform better? … "
              "add γ and β")


def gamma_beta(model) -> list[list[float]]:
    """Per BN layer: [mean γ, std γ, mean β, std β] over its channels (empty if BN has no affine)."""
    from normviz.norms.torch_modules import BatchNorm

    out = []
    for m in model.modules():
        if isinstance(m, BatchNorm) and m.affine:
            g, b = m.weight.detach().double(), m.bias.detach().double()
            out.append([float(g.mean()), float(g.std()), float(b.mean()), float(b.std())])
    return out


def identity_check(seed: int = 0, batch: int = 32) -> dict:
    """Max |Δ| between a BN layer's input and its output when γ = √(σ_B² + ε), β = μ_B (batch
    statistics, biased variance, as BN uses in training), on a real batch of first-conv outputs,
    in float64 and float32."""
    import torch

    from normviz.experiments.loop import cnn, digits
    from normviz.norms.torch_modules import BatchNorm

    X = digits("cnn")[0]
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(X), generator=gen)[:batch]
    conv = cnn("batch", widths=SETTINGS["widths"], seed=seed)[0][0]
    out = {}
    for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        with torch.no_grad():
            x = conv.to(dtype)(X[idx].to(dtype))
            bn = BatchNorm(x.shape[1], dims=2).to(dtype).train()
            var, mu = torch.var_mean(x, dim=(0, 2, 3), unbiased=False)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(mu)
            out[name] = float((bn(x) - x).abs().max())
            out[f"{name}_input_scale"] = float(x.abs().max())
    return out


def run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    from normviz.experiments.loop import cnn, digits, fit

    steps = QUICK_STEPS if quick else STEPS
    data = digits("cnn")
    out = {"seed": seed, "quick": quick, "settings": dict(SETTINGS, steps=steps, widths=list(SETTINGS["widths"])),
           "runs": {}}
    for i, name in enumerate(RUNS):
        model = cnn("batch", widths=SETTINGS["widths"], seed=seed, norm_opts={"affine": name == "affine"})
        sub = (lambda f, t, i=i: progress((i + f) / len(RUNS), t)) if progress else None
        log = fit(model, data, steps=steps, batch_size=SETTINGS["batch_size"], lr=SETTINGS["lr"],
                  momentum=SETTINGS["momentum"], seed=seed, log_every=max(1, steps // (3 if quick else 20)),
                  measure=gamma_beta, progress=sub, label=LABELS[name])
        log["gamma_beta"] = log.pop("measure")  # logs × layers × [γ mean, γ std, β mean, β std]
        out["runs"][name] = log
    out["identity"] = identity_check(seed)
    return out


LAST = 5  # the final error is the mean of the last logs: one eval after a large step is noisy


def _final(results: dict) -> dict:
    """Test error per run, mean of the last ``LAST`` logs (%)."""
    return {k: sum(v[-LAST:]) / len(v[-LAST:]) for k in RUNS for v in [results["runs"][k]["val_error"]]}


def claim(results: dict) -> tuple[bool, str]:
    """γ = √(σ_B² + ε), β = μ_B gives back the input to round-off (float64 max |Δ| < 1e-12 ×
    the input's scale): normalizing costs no capacity."""
    ident = results["identity"]
    exact = ident["float64"] < 1e-12 * max(1.0, ident["float64_input_scale"])
    err = _final(results)
    gb = results["runs"]["affine"]["gamma_beta"][-1]
    layers = "; ".join(f"layer {i + 1}: γ {g:.2f} ± {gs:.2f}, β {b:+.2f} ± {bs:.2f}"
                       for i, (g, gs, b, bs) in enumerate(gb))
    sentence = (f"With γ = √(σ_B² + ε), β = μ_B, BN gives back its input ({'holds' if exact else 'fails'}): "
                f"max |Δ| = {ident['float64']:.1e} in float64, {ident['float32']:.1e} in float32 "
                f"(input up to {ident['float64_input_scale']:.2f}). Final test error (mean of the last 5 logs): {LABELS['affine']} "
                f"{err['affine']:.1f} %, {LABELS['no_affine']} {err['no_affine']:.1f} %. Learned γ, β by the end "
                f"(mean ± std over channels) — {layers}.")
    return exact, sentence


def headline(results: dict) -> dict:
    err = _final(results)
    out = {f"{LABELS[k]}: final test error (%)": round(err[k], 2) for k in RUNS}
    for i, (g, gs, b, bs) in enumerate(results["runs"]["affine"]["gamma_beta"][-1]):
        out[f"layer {i + 1}: mean γ at the end"] = round(g, 3)
        out[f"layer {i + 1}: mean β at the end"] = round(b, 3)
    out["identity: max |Δ| float64"] = float(f"{results['identity']['float64']:.2e}")
    out["identity: max |Δ| float32"] = float(f"{results['identity']['float32']:.2e}")
    return out


def facts(results: dict) -> list:
    err = _final(results)
    end = results["runs"]["affine"]["gamma_beta"][-1]
    return [
        ("γ = √(σ_B² + ε), β = μ_B gives back BN's input to float64 round-off", claim(results)[0]),
        ("BN with γ, β ends with a lower test error than BN without affine", err["affine"] < err["no_affine"]),
        ("BN without affine still reaches 90 % test accuracy", err["no_affine"] <= 10.0),
        ("The learned γ grew above 1 on average in every layer (the seed's 'larger magnitude')",
         all(g > 1.0 for g, _, _, _ in end)),
        ("The learned β moved away from 0 (mean |β| over channels above its spread's tenth) in some layer",
         any(abs(b) > 0.1 * bs for _, _, b, bs in end)),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go

    from normviz.palette import OKABE_ITO as COLORS

    runs = results["runs"]
    fig1 = go.Figure()
    for i, name in enumerate(RUNS):
        fig1.add_scatter(x=runs[name]["step"], y=runs[name]["val_error"], mode="lines+markers", name=LABELS[name],
                         line_color=COLORS[i], marker_symbol=("circle", "square")[i])
    fig1.update_layout(title="Test error (eval mode): BN with and without γ, β", xaxis_title="step",
                       yaxis_title="error %", yaxis_type="log")
    gb, steps = runs["affine"]["gamma_beta"], runs["affine"]["step"]
    figs = [fig1]
    for which, col, start in (("γ", 0, 1.0), ("β", 2, 0.0)):
        fig = go.Figure()
        for layer in range(len(gb[0])):
            mean = [row[layer][col] for row in gb]
            std = [row[layer][col + 1] for row in gb]
            fig.add_scatter(x=steps, y=mean, mode="lines+markers", name=f"layer {layer + 1}",
                            line_color=COLORS[2 + layer], line_dash=("solid", "dash")[layer % 2],
                            error_y=dict(type="data", array=std, visible=True))
        fig.add_hline(y=start, line_dash="dot", annotation_text=f"start ({start:g})")
        fig.update_layout(title=f"Learned {which} per layer: mean over channels, bars = spread (std)",
                          xaxis_title="step", yaxis_title=which)
        figs.append(fig)
    return figs


SPEC = Experiment(
    key="affine",
    title="γ and β: what BatchNorm's affine step gives back",
    question="why",
    echoes="Ioffe & Szegedy 2015, §3 (γ, β 'restore the representation power'; γ = √Var, β = E recovers the input)",
    paper=(PaperTable(
        source="Ioffe & Szegedy 2015 (Batch Normalization), §3, Eq. after Alg. 1",
        columns=("setting", "what the layer computes"),
        rows=(("γ, β learned", "y = γ·x̂ + β, one γ and β per channel"),
              ("γ = √Var[x], β = E[x]", "y = x: the original activations are recovered")),
        note="the paper's words: 'we make sure that the transformation inserted in the network can represent the "
             "identity transform'; it states this, it reports no numbers for it",
    ),),
    look_for="Whether dropping γ, β changes the test error, how far the learned γ and β move from 1 and 0, and the "
             "identity check: with γ = σ_B and β = μ_B the layer gives back its input to round-off.",
    recommendation="Keep γ and β (affine=True): they cost 2 numbers per channel and let each layer undo or rescale "
                   "the normalization; they are not a device for making weights bigger.",
    claim_text="With γ = √(σ_B² + ε) and β = μ_B, BatchNorm returns its input exactly (float64 round-off), so the "
               "normalization with its affine step removes no function the network could compute.",
    how="CNN conv 16 → conv 32 at 8×8 with BN, GAP, linear, on the digits; batch 32, SGD lr 0.05, momentum 0.9, "
        "1000 steps (test error: mean of the last 5 of 21 logs), BN with affine and with affine=False. Identity check on 32 training images' first-conv "
        "outputs.",
    notes=f"The seed asks: \"{SEED_QUOTE}\". What is true: γ and β give back the scale and shift the "
          "normalization removed (and can undo it entirely); whether the learned γ grows, and whether affine "
          "helps at all on this small task, is measured below, per seed.",
    full_seconds=20,
    related=("training_lab",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
