"""Asset outputs stored as JSON instead of pickles.

Orion's asset outputs are small pointer dicts (paths, digests, versions); the data lives in the content-addressed
store. Dagster's default filesystem IO manager pickles them, and unpickling a file runs whatever code it names, so
anyone able to write to ``$DAGSTER_HOME/storage`` could run code in every later run. JSON holds exactly these
values and nothing executable; a value JSON cannot hold fails loudly when it is stored.

Same layout as the default (``<base_dir>/<asset key>[/<partition>]``, now with ``.json``), same behaviour for
partitions (a lone partition's value handed over bare, several as ``{partition: value}``).
"""

from __future__ import annotations

import json
from typing import Any

import dagster as dg


class JsonIOManager(dg.UPathIOManager):
    extension: str = ".json"

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path) -> None:
        try:
            text = json.dumps(obj, sort_keys=True, indent=1)
        except TypeError as exc:
            raise dg.DagsterInvariantViolationError(
                f"output of {context.asset_key.to_user_string() if context.has_asset_key else context.name} is not "
                f"JSON ({exc}); Orion's asset outputs are plain dicts of paths and digests") from exc
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")  # never half a file: a killed run leaves the old value
        tmp.write_text(text)
        tmp.rename(path)

    def load_from_path(self, context: dg.InputContext, path) -> Any:
        return json.loads(path.read_text())


class JsonIOManagerResource(dg.ConfigurableIOManagerFactory):
    """The ``io_manager`` of Orion's code location: :class:`JsonIOManager` under the instance's storage folder."""

    base_dir: str = ""
    """Folder of the outputs; empty = the Dagster instance's storage directory (``$DAGSTER_HOME/storage``)."""

    def create_io_manager(self, context) -> JsonIOManager:
        from upath import UPath

        base = self.base_dir or context.instance.storage_directory()
        return JsonIOManager(base_path=UPath(base))
