"""The systemd units under deploy/ are valid for systemd and start the real commands, and the
environment file they read names only settings yuqing knows, with values it accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from yuqing.cli.app import LogFormat
from yuqing.core.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ["yuqing-run.service", "yuqing-serve.service", "yuqing-backup.service",
         "yuqing-backup.timer"]
INSTALLED = "/opt/yuqing/venv/bin/yuqing"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not on this machine")
def test_systemd_accepts_every_unit_without_a_warning(tmp_path: Path) -> None:
    yuqing = Path(sys.executable).with_name("yuqing")
    assert yuqing.exists(), "the yuqing command is installed beside this Python"
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(INSTALLED, str(yuqing)), encoding="utf-8")
    proc = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in UNITS)],
                          capture_output=True, text=True, timeout=60)
    ours = [line for line in (proc.stdout + proc.stderr).splitlines() if str(tmp_path) in line
            or any(n in line for n in UNITS)]
    assert proc.returncode == 0 and not ours, proc.stdout + proc.stderr


def test_the_units_run_commands_that_exist() -> None:
    from yuqing.cli import app
    from typer.main import get_command

    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    for name in UNITS:
        for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
            for used in re.findall(re.escape(INSTALLED) + r" (\w+)", line):
                assert used in commands, f"{name}: yuqing {used} is no command"


def test_the_environment_file_names_known_settings_with_valid_values(
        monkeypatch: pytest.MonkeyPatch) -> None:
    known = {f"YUQING_{field.upper()}" for field in Settings.model_fields} | {
        "YUQING_WEB_SECRET", "YUQING_WEB_SECURE_COOKIES",  # read by `yuqing serve`
        "YUQING_LOG_FORMAT"}  # the --log-format of `yuqing run` and `yuqing serve`
    lines = (DEPLOY / "yuqing.env.example").read_text(encoding="utf-8").splitlines()
    assignments = [re.sub(r"^#\s*", "", line) for line in lines
                   if re.match(r"^#?\s*YUQING_\w+=", line)]
    assert {a.split("=", 1)[0] for a in assignments} <= known
    for assignment in assignments:  # each value, commented alternatives too, is accepted
        key, value = assignment.split("=", 1)
        if key == "YUQING_LOG_FORMAT":
            assert value in {f.value for f in LogFormat}
            continue
        monkeypatch.setenv(key, value)
        Settings()
    for name in UNITS[:3]:
        assert "EnvironmentFile=/etc/yuqing/yuqing.env" in (DEPLOY / name).read_text()
