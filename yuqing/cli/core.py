"""init, version, user add, audit verify."""

from __future__ import annotations

import getpass
import sys

import typer

from yuqing import __version__
from yuqing.core import audit
from yuqing.cli.app import (app, console, fail, open_context, print_json, print_problems,
                            stdin_is_terminal)
from yuqing.core.db import session_scope
from yuqing.core.users import UserError

user_app = typer.Typer(help="用户管理。", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志。", no_args_is_help=True)
config_app = typer.Typer(help="配置文件。", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(config_app, name="config")


@app.command()
def version() -> None:
    """显示版本号。"""
    console.print(f"yuqing {__version__}")


@app.command()
def init() -> None:
    """初始化：写入默认配置文件（如不存在），检查配置，创建或升级数据库。"""
    from yuqing.services.setup import SetupError, initialise

    try:
        done = initialise()
    except SetupError as exc:
        fail(str(exc))
    if done.wrote_config:
        console.print(f"已写入默认配置：{done.config}")
    print_problems(done.report)
    if not done.ok:
        fail(f"配置有 {len(done.report.errors)} 处错误（{done.report.source}），请修改后重新运行 "
             f"yuqing init / {len(done.report.errors)} config error(s): nothing was changed")
    console.print(f"配置检查通过：{done.report.source}")
    console.print(f"数据库已就绪：{done.database_url}")
    console.print(NEXT_STEPS.format(path=done.config), markup=False, highlight=False)


NEXT_STEPS = """下一步：
  1. 编辑 {path}：sources 填写数据源；roster 填写值班人员、通知渠道（apprise 地址）、班次和管理员 admin；
     policy 可调整时限与提醒（文件中有完整的注释示例）
  2. yuqing config check      检查配置，逐条列出问题及其位置
  3. yuqing roster now        查看下一条预警发给谁；yuqing drill 用真实渠道演练一次
  4. yuqing crawl             试采集一次；yuqing sources 查看数据源状态
  5. yuqing run               启动常驻进程（定时采集、研判、时限提醒与升级）"""


@config_app.command("check")
def config_check(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    """检查配置文件与环境变量：逐条列出问题及其位置（如 sources[0].url），有错误时以非零状态退出。"""
    from yuqing.config_check import check_all

    report = check_all()
    if as_json:
        print_json({"source": report.source, "ok": not report.errors,
                    "problems": [{"path": p.path, "message": p.message,
                                  "level": "warning" if p.warning else "error"}
                                 for p in report.problems]})
    else:
        print_problems(report, to_stderr=False)
        if not report.errors:
            console.print(f"配置检查通过：{report.source}"
                          + (f"（{len(report.warnings)} 条警告）" if report.warnings else ""))
    if report.errors:
        if not as_json:
            console.print(f"共 {len(report.errors)} 处错误 / {len(report.errors)} error(s)")
        raise typer.Exit(1)


def _read_password() -> str:
    if not stdin_is_terminal():
        line = sys.stdin.readline() if sys.stdin is not None else ""
        if not line.strip():
            fail("未从标准输入读到密码 / no password on stdin")
        return line.rstrip("\r\n")
    first = getpass.getpass("密码: ")
    if getpass.getpass("再次输入密码: ") != first:
        fail("两次输入的密码不一致 / passwords differ")
    return first


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="用户名（人员代号，如 zhangsan）"),
    role: str = typer.Option(..., "--role", help="角色：duty_officer, section, office, leader, admin"),
    display_name: str | None = typer.Option(None, "--display-name", help="姓名，如 张三（默认同用户名）"),
    section: str | None = typer.Option(None, "--section", help="所在科室，如 律师公证工作管理科"),
    channels: list[str] = typer.Option([], "--channel", help="通知渠道（apprise 地址），可重复"),
    login: bool = typer.Option(True, "--login/--no-login", help="是否设置登录密码"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """添加人员（终端中提示输入密码；非终端时从标准输入读取；--no-login 不设密码）。"""
    from yuqing.services.people import add_person

    ctx = open_context()
    password = _read_password() if login else None
    try:
        with session_scope(ctx.sessions) as session:
            added = add_person(session, name, role, password, section=section, channels=channels,
                               actor="cli", now=ctx.clock(), display_name=display_name)
    except UserError as exc:
        fail(str(exc))
    if as_json:
        print_json({"id": added.id, "name": added.name, "role": role, "roles": added.roles,
                    "section": added.section, "channels": added.channels, "login": added.login})
    else:
        console.print(f"已添加用户 {added.name}（{'、'.join(added.roles)}）")


@audit_app.command("verify")
def audit_verify(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    """校验审计日志哈希链，指出第一条被修改或删除的记录。"""
    ctx = open_context()
    with session_scope(ctx.sessions) as session:
        result = audit.verify(session)
    if as_json:
        print_json({"ok": result.ok, "checked": result.checked, "problem": result.problem,
                    "bad_seq": result.bad_seq})
    elif result.ok:
        console.print(f"审计日志完整：共 {result.checked} 条记录，哈希链校验通过。")
    else:
        console.print(f"审计日志校验失败：{result.problem}", markup=False)
    if not result.ok:
        raise typer.Exit(1)
