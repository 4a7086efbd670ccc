"""`orion probe`: one JSON line per file, in order, exit 0 whatever the files hold; 2 for usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from orion_core.video.cli import main

ROOT = Path(__file__).resolve().parents[3]
PYTHON = ROOT / ".venv" / "bin" / "python"


def run_probe(*args: str) -> subprocess.CompletedProcess:
    python = PYTHON if PYTHON.exists() else Path(sys.executable)
    return subprocess.run([str(python), "-m", "orion_core", "probe", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_cli_json_lines_in_order_exit_zero(media):
    names = ["good_mp4", "text", "truncated_mp4", "missing", "audio_mp4", "image_png", "empty", "undecodable"]
    proc = run_probe(*[str(media[n]) for n in names])
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(media[n]) for n in names]
    assert [r["ok"] for r in rows] == [True, False, False, False, False, True, False, False]
    assert [r.get("error") for r in rows] == [None, "not a video", "truncated", "missing file", "no video stream",
                                              None, "empty file", "undecodable"]
    assert rows[0] == {"path": str(media["good_mp4"]), "ok": True, "frames": 40, "fps": 10.0, "duration_s": 4.0,
                       "width": 64, "height": 48, "codec": "h264"}
    assert set(rows[1]) == {"path", "ok", "error"}


def test_cli_usage_error_exits_2():
    proc = run_probe()
    assert proc.returncode == 2 and "usage" in proc.stderr
    assert main(["--no-such-flag", "x.mp4"]) == 2


def test_cli_walks_directories_sorted(tmp_path, media, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.mp4").write_bytes(media["good_mp4"].read_bytes())
    (tmp_path / "a.mkv").write_bytes(media["truncated_mkv"].read_bytes())
    (tmp_path / "notes.txt").write_text("skipped: not a video extension")
    assert main([str(tmp_path), str(media["cv2_mp4"])]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(Path(r["path"]).name, r["ok"]) for r in rows] == [("a.mkv", False), ("b.mp4", True), ("cv2.mp4", True)]
    assert rows[0]["error"] == "truncated"
