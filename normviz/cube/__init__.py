"""The cube: the N×C×H×W tensor drawn in 3D with the set each norm pools over.

``numbers``: what is shown (``CubeSpec``), the data, per-element statistics, sentences, formula
and exports; ``figures``: the plotly figures; ``batch_noise``: how noisy batch statistics are.
"""
