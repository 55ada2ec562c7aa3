"""The picture as it is."""
from __future__ import annotations

from src.transformation.base import View


class IdentityView(View):
    name = "identity"

    def view(self, x):
        return self.checked(x)

    def inverse_view(self, eps):
        return self.checked(eps)
