"""Names to views, the per-view weights, and the one combination rule the sampler uses.

    eps_image = sum_v w_v * v^-1(eps_image(v(z), prompt_v))

Permutation views share the canvas, so their weights sum to 1 (default: equal). Hybrid views split the prediction by
frequency and low_pass + high_pass is the identity, so each gets weight 1.
"""
from __future__ import annotations

from src.transformation.base import View, ViewError
from src.transformation.flip import FlipView
from src.transformation.high_pass import HighPassView
from src.transformation.identity import IdentityView
from src.transformation.low_pass import LowPassView
from src.transformation.patch_permute import PatchPermuteView
from src.transformation.patch_rotate import PatchRotateView
from src.transformation.rotate_180 import Rotate180View
from src.transformation.swap import SwapView

VIEWS: dict[str, type[View]] = {
    "identity": IdentityView,
    "flip": FlipView,
    "rotate_180": Rotate180View,
    "swap": SwapView,
    "patch_permute": PatchPermuteView,
    "patch_rotate": PatchRotateView,
    "low_pass": LowPassView,
    "high_pass": HighPassView,
}

# Keyword options each view understands; other keywords given to `get_view` are ignored for that view.
VIEW_OPTIONS = {"patch_permute": ("patch", "seed"), "low_pass": ("sigma",), "high_pass": ("sigma",)}


def get_view(name: str, **options) -> View:
    """Build the view called `name`; `options` (seed, patch, sigma) go to the views that use them."""
    cls = VIEWS.get(name)
    if cls is None:
        raise ViewError(f"unknown view '{name}' (choose from {', '.join(VIEWS)})")
    wanted = {k: v for k, v in options.items() if k in VIEW_OPTIONS.get(name, ()) and v is not None}
    return cls(**wanted)


def resolve_view_weights(views: list[View], weights: list[float] | None = None) -> list[float]:
    """Check or choose w_v: hybrids 1 each, other views equal shares summing to 1; refuses mixes and bad sums."""
    if not views:
        raise ViewError("give at least one view (e.g. --views identity)")
    hybrid = [v.hybrid for v in views]
    if any(hybrid) and not all(hybrid):
        raise ViewError("hybrid views (low_pass, high_pass) combine only with each other, not with "
                        + ", ".join(v.name for v in views if not v.hybrid))
    if weights is None:
        return [1.0] * len(views) if all(hybrid) else [1.0 / len(views)] * len(views)
    weights = [float(w) for w in weights]
    if len(weights) != len(views):
        raise ViewError(f"--view_weights has {len(weights)} values for {len(views)} views; give one per view")
    if any(w < 0 for w in weights):
        raise ViewError(f"--view_weights must not be negative, got {weights}")
    if not all(hybrid) and abs(sum(weights) - 1.0) > 1e-6:
        raise ViewError(f"--view_weights must sum to 1 (got {sum(weights):g}); hybrid views take 1 each")
    return weights


def build_views(names: list[str], weights: list[float] | None = None, height: int | None = None,
                width: int | None = None, **options) -> tuple[list[View], list[float]]:
    """Views and their weights from CLI values; with a latent size, refuse views that cannot act on it."""
    views = [get_view(name, **options) for name in names]
    if height is not None and width is not None:
        for v in views:
            v.check_size(int(height), int(width))
    return views, resolve_view_weights(views, weights)


def combine_view_predictions(views: list[View], weights: list[float], predictions: list):
    """sum_v w_v * v^-1(eps_v), where predictions[k] was made on views[k].view(z)."""
    total = None
    for view, weight, eps in zip(views, weights, predictions, strict=True):
        part = view.inverse_view(eps)
        part = part if weight == 1.0 else weight * part
        total = part if total is None else total + part
    return total


def is_plain_identity(views: list[View]) -> bool:
    """True when the views change nothing, so the sampler can take its ordinary single-prompt path."""
    return len(views) == 1 and isinstance(views[0], IdentityView)
