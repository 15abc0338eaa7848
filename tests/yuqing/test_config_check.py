"""`yuqing init`, `yuqing config check` and `yuqing run` reject, all at once and each with its
place in the file, everything any command would reject; the shipped examples validate."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from alerts.policy import DEFAULT_POLICY, Policy
from analysis.ownership import DEFAULT_OWNERSHIP, load_ownership
from tests.conftest import CliResult
from yuqing.config_check import check_data
from yuqing.core.migrate import upgrade
from yuqing.core.settings import default_config_text

Run = Callable[..., CliResult]
README = Path(__file__).resolve().parents[2] / "README.md"

# The five defects of issue 8.12, each in its own section.
BROKEN = """\
sources:
  - name: bureau_site
    kind: site
    urll: http://127.0.0.1:9/list/
  - name: bureau_site
    kind: feed
    url: http://127.0.0.1:9/feed.xml
schemes:
  - name: 法考
    expression: '(法考 AND'
policy:
  ack_timeout_minutes: -3
roster:
  admin: zhang
  people:
    zhang: {name: 张三, channels: ["sms://123"]}
"""
DEFECTS = ("sources[0].urll", "sources[1].name", "schemes[0].expression",
           "policy.ack_timeout_minutes", "roster.people.zhang.channels")


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    (tmp_path / "yuqing.yaml").write_text(text, encoding="utf-8")
    return {"YUQING_CONFIG": str(tmp_path / "yuqing.yaml"),
            "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def _error_paths(output: str) -> list[str]:
    return re.findall(r"^错误 / error: (\S+): ", output, flags=re.M)


def test_init_names_each_of_the_five_defects_and_changes_nothing(run_cli: Run,
                                                                 tmp_path: Path) -> None:
    done = run_cli("init", env=_config(tmp_path, BROKEN))
    assert done.code != 0
    assert _error_paths(done.stderr) == list(DEFECTS), done.stderr
    assert "数据库已就绪" not in done.stdout
    assert not (tmp_path / "cli.db").exists()


def test_config_check_lists_one_line_per_problem_and_exits_non_zero(run_cli: Run,
                                                                    tmp_path: Path) -> None:
    env = _config(tmp_path, BROKEN)
    done = run_cli("config", "check", env=env)
    assert done.code == 1
    assert _error_paths(done.stdout) == list(DEFECTS), done.stdout
    assert "did you mean 'url'" in done.stdout  # the typo is named with its likely intent
    data = json.loads(run_cli("config", "check", "--json", env=env).stdout)
    assert [p["path"] for p in data["problems"] if p["level"] == "error"] == list(DEFECTS)


def test_run_refuses_to_start_on_a_broken_scheme_also_without_crawling(run_cli: Run,
                                                                       tmp_path: Path) -> None:
    env = _config(tmp_path, "schemes:\n  - name: 法考\n    expression: '(法考 AND'\n")
    assert run_cli("init", env=env).code != 0
    try:
        done = run_cli("run", "--no-crawl", env=env, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("yuqing run started with a broken keyword scheme")
    assert done.code != 0
    assert _error_paths(done.stderr) == ["schemes[0].expression"]


def test_a_command_names_the_key_as_written_in_the_file(run_cli: Run, tmp_path: Path) -> None:
    env = _config(tmp_path, BROKEN.split("schemes:")[0])
    upgrade(env["YUQING_DATABASE_URL"])
    done = run_cli("crawl", env=env)
    assert done.code != 0
    assert "sources[0].urll" in done.stderr and "sources.sources" not in done.stderr


def test_a_channel_apprise_cannot_use_is_an_error_and_a_missing_admin_a_warning() -> None:
    problems = check_data({"roster": {"people": {
        "li": {"name": "李四", "channels": ["json://127.0.0.1:9/hook", "json://"]}}}})
    assert [(p.path, p.warning) for p in problems] == [
        ("roster.people.li.channels[1]", False), ("roster.admin", True)]


def test_init_on_a_fresh_directory_writes_the_config_and_prints_the_next_steps(
        run_cli: Run, tmp_path: Path) -> None:
    done = run_cli("init")
    assert done.code == 0, done.stderr
    assert (tmp_path / "yuqing.yaml").exists() and "数据库已就绪" in done.stdout
    assert "下一步" in done.stdout and "yuqing config check" in done.stdout
    assert "roster.admin" in done.stderr  # the default roster has no admin yet: said plainly


def uncomment(text: str) -> str:
    """The config with each section's commented example taken in: ``policy: {}`` followed by
    ``#  levels: …`` lines becomes ``policy:`` followed by ``  levels: …``."""
    out, in_example = [], False
    for line in text.splitlines():
        section = re.fullmatch(r"(\w+): (\{\}|\[\])", line)
        if section:
            out.append(f"{section.group(1)}:")
            in_example = True
        elif in_example and line.startswith("#  "):
            out.append(line[1:])
        else:
            in_example = False
            out.append(line)
    return "\n".join(out) + "\n"


def test_the_commented_examples_of_the_default_config_validate() -> None:
    data = yaml.safe_load(uncomment(default_config_text()))
    assert set(data) == {"crawl", "sources", "schemes", "policy", "roster", "ownership",
                         "reports"}
    assert data["reports"]["weekly"] == "mon 08:30"  # the shown example schedules a report
    problems = check_data(data)
    # the example roster heads two sections: the other owning sections are named in one warning
    assert [(p.path, p.warning) for p in problems] == [("roster.sections", True)]
    assert "律师公证工作管理科" not in problems[0].message and "监狱管理局" in problems[0].message
    assert load_ownership(data["ownership"]) == DEFAULT_OWNERSHIP  # the file shows the defaults
    roster = data["roster"]
    assert roster["admin"] and roster["people"] and roster["shifts"] and roster["sections"]
    # "policy: {} means the values below": true except the quiet hours it shows for 较大
    shown = Policy.model_validate(data["policy"])
    assert shown.levels.serious.quiet_hours is not None
    assert shown.model_copy(update={"levels": DEFAULT_POLICY.levels}) == DEFAULT_POLICY
    assert shown.levels.major == DEFAULT_POLICY.levels.major
    assert shown.levels.critical == DEFAULT_POLICY.levels.critical


@pytest.mark.parametrize("section", ["policy", "roster", "ownership"])
def test_the_readme_examples_validate(section: str) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    example = [yaml.safe_load(b) for b in blocks if b.startswith(f"{section}:")]
    assert len(example) == 1, f"one {section} example in the README"
    assert [p.line() for p in check_data(example[0])] == []


def test_an_ownership_map_with_an_unknown_topic_or_no_section_is_refused_naming_it() -> None:
    problems = check_data({"ownership": {"notry": "公证科", "exam": " "}})
    assert [p.path for p in problems] == ["ownership"]
    assert "notry" in problems[0].message
    assert check_data({"ownership": {"notary": "公证科"}}) == []
