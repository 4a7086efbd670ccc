"""Resources: small interfaces chosen in one place (definitions.py)."""

from .config import OrionConfigResource
from .dvc import DvcResource
from .store import StoreResource

__all__ = ["DvcResource", "OrionConfigResource", "StoreResource"]
