"""Orion's Dagster layer, glue only: each asset resolves its inputs, calls orion_core (or a resource method) and
records metadata. Resources (``resources/``) are small interfaces built from the environment in one place,
``definitions.py``, which also assembles the assets, sensors and jobs."""
