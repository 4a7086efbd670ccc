"""``orion config``: the effective config of a preset with overrides."""


def test_cli_prints_effective_config(capsys):
    from orion_core.cli import main

    assert main(["config", "--preset", "tiny-cpu", "--json", "video.t_v=4"]) == 0
    out = capsys.readouterr().out
    assert '"t_v": 4' in out and '"digest"' in out
