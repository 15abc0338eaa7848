"""init, version, user add, audit verify."""

from __future__ import annotations

import getpass
import sys

import typer
from sqlalchemy.exc import SQLAlchemyError

from yuqing import __version__, audit
from yuqing.cli.app import app, console, fail, open_context, print_json, stdin_is_terminal
from yuqing.db import session_scope
from yuqing.migrate import upgrade
from yuqing.settings import default_config_text
from yuqing.users import UserError, add_user

user_app = typer.Typer(help="用户管理。", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志。", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")


@app.command()
def version() -> None:
    """显示版本号。"""
    console.print(f"yuqing {__version__}")


@app.command()
def init() -> None:
    """初始化：写入默认配置文件（如不存在），创建或升级数据库。"""
    ctx = open_context()
    path = ctx.settings.config_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(), encoding="utf-8")
        console.print(f"已写入默认配置：{path}")
    try:
        upgrade(ctx.settings.database_url)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        fail(f"数据库无法初始化 / cannot initialise database: {type(exc).__name__}: "
             f"{reason}".splitlines()[0])
    console.print(f"数据库已就绪：{ctx.settings.database_url}")


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
    name: str = typer.Argument(..., help="用户名"),
    role: str = typer.Option(..., "--role", help="角色：duty_officer, section, office, leader, admin"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """添加用户（终端中提示输入密码；非终端时从标准输入读取）。"""
    ctx = open_context()
    password = _read_password()
    try:
        with session_scope(ctx.sessions) as session:
            user = add_user(session, name, role, password, actor="cli", now=ctx.clock())
            data = {"id": user.id, "name": user.name, "role": user.role}
    except UserError as exc:
        fail(str(exc))
    if as_json:
        print_json(data)
    else:
        console.print(f"已添加用户 {data['name']}（{data['role']}）")


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
