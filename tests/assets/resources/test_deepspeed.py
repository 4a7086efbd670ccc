"""DeepSpeedLauncher: command lines per mode, and stopping a whole job's process tree on cancel."""

import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from orion_assets.resources.deepspeed import DeepSpeedLauncher, process_tree, stop_process_tree

# A "launcher" that starts two "ranks" and prints their pids. Ranks ignore SIGINT (as a rank blocked in a
# collective effectively does); with orphan=True the launcher exits on SIGINT and leaves its ranks behind.
TREE = textwrap.dedent("""
    import signal, subprocess, sys, time
    orphan = sys.argv[1] == "orphan"
    rank = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"
    kids = [subprocess.Popen([sys.executable, "-c", rank]) for _ in range(2)]
    print(" ".join(str(k.pid) for k in kids), flush=True)
    if not orphan:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    time.sleep(600)
""")


def _start(mode: str) -> tuple[subprocess.Popen, list[int]]:
    proc = subprocess.Popen([sys.executable, "-c", TREE, mode], stdout=subprocess.PIPE, text=True)
    ranks = [int(p) for p in proc.stdout.readline().split()]
    time.sleep(0.5)  # let the ranks install their SIGINT handler
    return proc, ranks


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("mode", ["stubborn", "orphan"])
def test_stop_process_tree_stops_every_rank(mode):
    proc, ranks = _start(mode)
    assert len(process_tree(proc.pid)) == 3
    try:
        count = stop_process_tree(proc, grace=1.0, term_grace=2.0)
        assert count == 3
        assert proc.poll() is not None and all(_gone(pid) for pid in ranks)
    finally:
        for pid in ranks:  # never leave a test's processes behind, even when it fails
            if not _gone(pid):
                psutil.Process(pid).kill()
        proc.kill()
        proc.wait()


def test_command_lines(tmp_path):
    one = DeepSpeedLauncher(num_procs=1)
    assert one.mode() == "python"
    cmd = one.command("job.py", ["--stage", "1"], port=1234)
    assert cmd == [sys.executable, "-u", "job.py", "--stage", "1"]
    assert one.rank_env(1234) == {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "LOCAL_WORLD_SIZE": "1",
                                  "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1234"}
    two = DeepSpeedLauncher(num_procs=2)
    cmd = two.command("job.py", ["--stage", "1"], port=1234)
    assert cmd[:4] == [sys.executable, "-u", "-m", "deepspeed.launcher.runner"]
    assert cmd[4:] == ["--num_gpus", "2", "--master_addr", "127.0.0.1", "--master_port", "1234", "--no_local_rank",
                       "job.py", "--stage", "1"]
    assert two.rank_env(1234) == {}  # the DeepSpeed launcher sets RANK/WORLD_SIZE itself
    hosts = DeepSpeedLauncher(hostfile=str(tmp_path / "hostfile"), master_addr="node0")
    assert hosts.mode() == "deepspeed" and "--hostfile" in hosts.command("j.py", [], port=1)
    assert DeepSpeedLauncher(num_procs=1, launcher="deepspeed").mode() == "deepspeed"
    with pytest.raises(ValueError, match="exactly one"):
        DeepSpeedLauncher(num_procs=2, launcher="python").command("j.py", [], port=1)
    with pytest.raises(ValueError, match="launcher"):
        DeepSpeedLauncher(launcher="torchrun").mode()
