"""yuqing serve: the web dashboard over the configured database."""

from __future__ import annotations

import os
from datetime import timedelta

import typer

from yuqing.cli.app import (LogFormat, app, fail, log_format_option, open_context,
                            require_current_schema)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（默认仅本机）"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="监听端口"),
    session_hours: float = typer.Option(12.0, "--session-hours", min=0.1, max=168,
                                        help="登录会话有效小时数"),
    log_format: LogFormat = log_format_option(),
) -> None:
    """启动舆情工作台网页（事件看板、时限倒计时、确认预警）。"""
    import uvicorn

    from yuqing import logs
    from yuqing.core.db import session_scope
    from yuqing.services.config_audit import record_if_changed
    from yuqing.web.app import WebOptions, create_app

    ctx = open_context()
    require_current_schema(ctx)
    logs.configure(log_format.value)  # uvicorn's own loggers go through the same handler
    secret = os.environ.get("YUQING_WEB_SECRET", "")
    if secret and len(secret) < 16:
        fail("配置错误 / invalid setting in environment: YUQING_WEB_SECRET: "
             "at least 16 characters expected")
    options = WebOptions(secret=secret, session_lifetime=timedelta(hours=session_hours),
                         secure_cookies=os.environ.get("YUQING_WEB_SECURE_COOKIES") == "1")
    with session_scope(ctx.sessions) as session:
        record_if_changed(session, ctx.config, now=ctx.clock(), by="yuqing serve")
    web = create_app(ctx.settings, ctx.sessions, ctx.clock, config=ctx.config, options=options)
    uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=True, log_config=None)
