"""Rank 0's rendezvous store and gloo's sockets listen on MASTER_ADDR (loopback here), not on every interface."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT, free_port

# The group as init_distributed makes it, without DeepSpeed's own init (which JIT-loads a shared-memory op and has
# nothing to do with where the store listens).
PROBE = """
import json, psutil
from orion_core.train.engine import _init_group_on_master_addr
_init_group_on_master_addr(backend="gloo")
print(json.dumps(sorted({c.laddr.ip for c in psutil.Process().net_connections("tcp") if c.status == "LISTEN"})))
"""


def test_a_loopback_job_listens_on_loopback_only(clean_env):
    env = {**clean_env, "RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(free_port()), "PYTHONPATH": str(ROOT)}
    env.pop("GLOO_SOCKET_IFNAME", None)
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    addresses = json.loads(proc.stdout.strip().splitlines()[-1])
    assert addresses and all(a.startswith("127.") or a == "::1" for a in addresses), addresses
