"""Views for sounding anagrams: one module per view, a name -> view registry, and the combination rule."""
from src.transformation.base import View, ViewError
from src.transformation.registry import (
    VIEWS,
    build_views,
    combine_view_predictions,
    get_view,
    is_plain_identity,
    resolve_view_weights,
)

__all__ = ["VIEWS", "View", "ViewError", "build_views", "combine_view_predictions", "get_view", "is_plain_identity",
           "resolve_view_weights"]
