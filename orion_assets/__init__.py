"""Orion's Dagster layer: thin assets over orion_core, resources, sensors and checks. See definitions.py."""
