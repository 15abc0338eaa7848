"""The CLI: clear one-line errors for bad settings, no prompts without a terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

Run = Callable[..., CliResult]


def _one_line_error(result: CliResult) -> str:
    assert result.code == 2, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _bad(run_cli: Run, env: dict[str, str]) -> str:
    """A command stops with one line; ``init`` names the same problem as its one error."""
    line = _one_line_error(run_cli("sources", env=env))
    init = run_cli("init", env=env)
    assert init.code == 2 and "Traceback" not in init.stderr
    errors = [l for l in init.stderr.splitlines() if l.startswith("错误 / error")]
    assert len(errors) == 1, init.stderr
    return line + "\n" + errors[0]


def test_unknown_database_scheme_is_one_line(run_cli: Run) -> None:
    for line in _bad(run_cli, {"YUQING_DATABASE_URL": "mysql://root@x/db"}).splitlines():
        assert "YUQING_DATABASE_URL" in line and "mysql" in line and "sqlite" in line


def test_unreadable_config_is_one_line(run_cli: Run, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config.yaml"
    for line in _bad(run_cli, {"YUQING_CONFIG": str(missing)}).splitlines():
        assert str(missing) in line and "配置文件" in line


def test_config_value_of_the_wrong_type_names_file_and_key(run_cli: Run, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("sources: 5\n", encoding="utf-8")
    command, init = _bad(run_cli, {"YUQING_CONFIG": str(config)}).splitlines()
    assert str(config) in command and "sources" in command
    assert "error: sources: " in init


def test_invalid_yaml_names_the_line(run_cli: Run, tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("sources:\n  - name: [unclosed\n", encoding="utf-8")
    for line in _bad(run_cli, {"YUQING_CONFIG": str(config)}).splitlines():
        assert "broken.yaml" in line and "line" in line


def test_unknown_timezone_is_one_line(run_cli: Run) -> None:
    for line in _bad(run_cli, {"YUQING_TIMEZONE": "Mars/Olympus"}).splitlines():
        assert "YUQING_TIMEZONE" in line


def test_init_writes_a_commented_config_and_creates_the_database(
        run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("init")
    assert result.code == 0, result.stderr
    config = (tmp_path / "yuqing.yaml").read_text(encoding="utf-8")
    assert config.startswith("#") and "sources:" in config
    assert (tmp_path / "cli.db").exists()
    assert run_cli("init").code == 0  # a second run upgrades nothing and succeeds


def test_user_add_reads_the_password_from_stdin(run_cli: Run) -> None:
    assert run_cli("init").code == 0
    result = run_cli("user", "add", "alice", "--role", "duty_officer", "--json",
                     stdin="correct horse battery\n")
    assert result.code == 0, result.stderr
    assert '"role": "duty_officer"' in result.stdout
    again = run_cli("user", "add", "alice", "--role", "leader", stdin="another password\n")
    assert again.code == 2 and "already exists" in again.stderr


def test_user_add_never_prompts_without_a_terminal(run_cli: Run) -> None:
    assert run_cli("init").code == 0
    result = run_cli("user", "add", "bob", "--role", "leader", stdin="", timeout=30)
    assert result.code == 2 and "stdin" in result.stderr


@pytest.mark.parametrize("role", ["chief", "DUTY"])
def test_user_add_rejects_unknown_roles(run_cli: Run, role: str) -> None:
    assert run_cli("init").code == 0
    result = run_cli("user", "add", "carol", "--role", role, stdin="long enough pw\n")
    assert result.code == 2 and "unknown role" in result.stderr


def test_help_is_in_chinese(run_cli: Run) -> None:
    result = run_cli("--help")
    assert result.code == 0 and "舆情" in result.stdout and "初始化" in result.stdout


def test_a_database_that_was_never_initialised_is_one_line(run_cli: Run) -> None:
    line = _one_line_error(run_cli("clocks"))
    assert "yuqing init" in line and "no such table" in line


def test_crawl_refuses_a_database_an_older_version_left_behind(run_cli: Run, tmp_path: Path) -> None:
    from alembic import command

    from yuqing.core.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0003")
    config = tmp_path / "c.yaml"
    config.write_text("sources:\n  - {name: s, kind: feed, url: 'http://127.0.0.1:9/'}\n", "utf-8")
    line = _one_line_error(run_cli("crawl", env={"YUQING_DATABASE_URL": url,
                                                 "YUQING_CONFIG": str(config)}))
    assert "yuqing init" in line
