"""Code versions for content addressing: a result depends on its inputs, its config AND the code that made it.

``code_digest("orion_core.data.filters")`` hashes the package's Python sources, so editing a filter invalidates
cached filter outputs while leaving unrelated caches (decoded manifests, mask lists) alone.
"""

from __future__ import annotations

import hashlib
import importlib
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=64)
def code_digest(*modules: str) -> str:
    """sha256 (16 hex) over the .py sources of the given modules/packages, in a stable order."""
    digest = hashlib.sha256()
    for name in sorted(modules):
        module = importlib.import_module(name)
        origin = Path(module.__file__)
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for path in files:
            digest.update(path.relative_to(origin.parent).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
