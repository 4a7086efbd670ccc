"""``python -m orion_core.train`` (also the ``--module`` target of the deepspeed launcher)."""

from .cli import main

raise SystemExit(main())
