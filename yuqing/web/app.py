"""The dashboard: ``create_app(settings, sessions, clock)`` builds the FastAPI application.

Views parse the request, open one unit of work, call ``yuqing.web.data`` and render; the role
check of every route is ``access.ALLOWED``. Pages redirect an anonymous visitor to ``/login``
(coming back to the page afterwards); the JSON API answers 401.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import RequestResponseEndpoint
from starlette.routing import Match, Route

from yuqing.core.clock import Clock, format_local, parse_local, to_local
from yuqing.core.db import session_scope
from yuqing.core.models import ROLE_LABELS, Role
from yuqing.core.people import PeopleError
from responses import periods
from responses.render.charts import charts as report_charts
from responses.report import TOPIC_LABELS, TimelinessReport, kind_label
from yuqing.core.settings import AppConfig, Settings
from yuqing.services.config import load as load_config
from yuqing.services.report import report_bytes, timeliness
from yuqing.web import data
from yuqing.web import procedure
from yuqing.web.access import ALLOWED, Action, allowed
from yuqing.web.security import (CSRF_FIELD, CSRF_HEADER, LOGIN_COOKIE, SECURITY_HEADERS,
                                 SESSION_COOKIE, LoginThrottle, SessionCodec, WebSession,
                                 safe_next, tokens_match)

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
# Ids fit the databases' integer columns; a larger number is a 422, not a driver overflow.
EXPORT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
IncidentId = Annotated[int, PathParam(ge=1, le=2_147_483_647, description="事件编号")]
ResponseId = Annotated[int, PathParam(ge=1, le=2_147_483_647, description="回应编号")]
DocumentId = Annotated[int, PathParam(ge=1, le=2_147_483_647, description="文档编号")]
# Crawled or typed text never carries NUL (PostgreSQL refuses it in text columns).
NO_NUL = r"^[^\x00]*$"


@dataclass(frozen=True)
class WebOptions:
    """Dashboard settings: the cookie secret, session lifetime, polling and lockout."""

    secret: str = ""  # empty: a random one per process (sessions end at restart)
    session_lifetime: timedelta = timedelta(hours=12)
    poll_seconds: int = 30
    secure_cookies: bool = False  # True: Secure cookies even when the request looks like http
    login_limit: int = 5
    lockout: timedelta = timedelta(minutes=15)


class NotLoggedIn(Exception):
    pass


class Forbidden(Exception):
    pass


@dataclass(frozen=True)
class Visitor:
    """A logged-in request: the identity and its session (for the CSRF token)."""

    identity: data.Identity
    session: WebSession

    def can(self, action: Action) -> bool:
        return allowed(self.identity.roles, action)


# --- API schemas (OpenAPI) ----------------------------------------------------------------------


class ClockOut(BaseModel):
    incident_id: int
    kind: str
    sequence: int
    due_at: str
    state: str
    seconds_left: int | None
    met_at: str | None


class IncidentOut(BaseModel):
    id: int
    title: str
    severity: str
    topic: str | None
    drill: bool
    t0: str
    t0_source: str
    acked_by: str | None
    owning_section: str | None
    clocks: list[ClockOut]


class ClocksOut(BaseModel):
    now: str
    poll_seconds: int
    clocks: list[ClockOut]


class AckOut(BaseModel):
    incident_id: int
    acknowledged_by: str
    notifications: int


class Problem(BaseModel):
    detail: str


class StepOut(BaseModel):
    action: str
    actor: str
    at: str
    comment: str | None


class ResponseOut(BaseModel):
    id: int
    incident_id: int
    kind: str
    state: str
    title: str
    section: str | None
    drafted_by: str | None
    reviewed_by: str | None
    confidential_ok: bool
    approved_by: str | None
    approved_at: str | None
    published_at: str | None
    url: str | None
    channels: list[str]
    sha256: str | None
    evidence: str | None
    comment: str | None
    steps: list[StepOut]


class DraftIn(BaseModel):
    kind: Literal[tuple(k.value for k in procedure.Kind)]  # type: ignore[valid-type]
    text: str = Field(min_length=1, max_length=20_000, pattern=NO_NUL)
    title: str = Field("", max_length=500, pattern=NO_NUL)
    reason: str | None = Field(None, max_length=2000, pattern=NO_NUL)
    filing: str | None = Field(None, max_length=2000, pattern=NO_NUL)


class ReviewIn(BaseModel):
    confidential_ok: bool = Field(description="保密审查通过")


class RejectIn(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)


class PublishIn(BaseModel):
    published_at: datetime = Field(description="发布时间（无时区时按北京时间）")
    url: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    channels: list[Literal[tuple(procedure.CHANNELS)]] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=5)


API_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "未登录"},
    403: {"model": Problem, "description": "无权限或 CSRF 校验失败"},
}


def create_app(settings: Settings, sessions: sessionmaker[Session], clock: Clock, *,
               config: AppConfig | None = None, options: WebOptions | None = None) -> FastAPI:
    """The dashboard over ``sessions``; every decision by time reads ``clock``."""
    opts = options or WebOptions()
    secret = opts.secret
    if not secret:
        log.warning("no YUQING_WEB_SECRET: using a random secret, sessions end at restart")
        secret = secrets.token_urlsafe(32)
    codec = SessionCodec(secret, opts.session_lifetime)
    throttle = LoginThrottle(opts.login_limit, lockout=opts.lockout)
    typed = load_config(config or AppConfig(), settings)  # validated once, as every shell does
    tz = settings.tz

    app = FastAPI(title="yuqing 舆情工作台 API", version="1", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.options = opts
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.filters["local"] = lambda v: format_local(v, tz)
    env.filters["iso"] = lambda v: to_local(v, tz).isoformat() if v else ""
    env.filters["href"] = _http_url
    env.filters["left"] = _left
    env.globals["ROLE_LABELS"] = ROLE_LABELS
    env.globals["Action"] = Action
    env.globals["kind_label"] = kind_label
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def anonymous_api_call(request: Request) -> bool:
        """An API call without a live session: refused before its body is read, so nothing
        (not even a parse error) is answered without authentication."""
        if not request.url.path.startswith("/api/"):
            return False
        if codec.read(request.cookies.get(SESSION_COOKIE), clock()) is not None:
            return False
        return any(isinstance(r, Route) and r.matches(request.scope)[0] is Match.FULL
                   for r in app.router.routes)

    @app.middleware("http")
    async def _api_session(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if anonymous_api_call(request):
            return JSONResponse({"detail": "未登录 / authentication required"}, status_code=401,
                                headers={"www-authenticate": "Cookie"})
        return await call_next(request)

    @app.middleware("http")
    async def _headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(NotLoggedIn)
    async def _anonymous(request: Request, _exc: NotLoggedIn) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "未登录 / authentication required"}, status_code=401,
                                headers={"www-authenticate": "Cookie"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(safe_next(target), safe='/')}",
                                status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:  # Starlette names only the first route's methods
            methods = sorted({m for r in app.router.routes if isinstance(r, Route)
                              and r.methods and r.matches(request.scope)[0] is Match.PARTIAL
                              for m in r.methods})
            headers = {**(exc.headers or {}), "allow": ", ".join(methods)}
            return JSONResponse({"detail": exc.detail}, status_code=405, headers=headers)
        return await http_exception_handler(request, exc)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return page(request, "error.html", None, 403, message=str(exc))

    def visitor(request: Request) -> Visitor:
        web = codec.read(request.cookies.get(SESSION_COOKIE), clock())
        if web is None:
            raise NotLoggedIn()
        with session_scope(sessions, readonly=True) as db:
            roles = data.roles_of(db, web.user)
        if roles is None:
            raise NotLoggedIn()
        return Visitor(data.Identity(web.user, roles), web)

    def require(action: Action) -> Any:
        def check(who: Visitor = Depends(visitor)) -> Visitor:
            if not who.can(action):
                labels = "、".join(ROLE_LABELS[r] for r in Role if r in ALLOWED[action])
                raise Forbidden(f"无权限：此操作仅限{labels} / forbidden for your role")
            return who
        return Depends(check)

    def check_csrf(who: Visitor, token: str | None) -> None:
        if not tokens_match(who.session.csrf, token):
            raise Forbidden("表单已失效，请刷新页面后重试 / CSRF token missing or wrong")

    def page(request: Request, name: str, who: Visitor | None, status: int = 200,
             **context: Any) -> HTMLResponse:
        base = {"visitor": who, "csrf": who.session.csrf if who else "",
                "now": clock(), "poll_seconds": opts.poll_seconds}
        return templates.TemplateResponse(request, name, {**base, **context},
                                          status_code=status)

    def cookie_secure(request: Request) -> bool:
        return opts.secure_cookies or request.url.scheme == "https"

    # --- login ------------------------------------------------------------------------------

    def login_form(request: Request, next_: str, status: int = 200,
                   error: str | None = None) -> HTMLResponse:
        token, cookie = codec.login_token()
        response = page(request, "login.html", None, status, next=safe_next(next_),
                        login_csrf=token, error=error)
        response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="lax",
                            secure=cookie_secure(request), path="/login")
        return response

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> Response:
        if codec.read(request.cookies.get(SESSION_COOKIE), clock()) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return login_form(request, next)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, username: Annotated[str, Form(max_length=64)] = "",
              password: Annotated[str, Form(max_length=256)] = "",
              csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
              next: Annotated[str, Form(max_length=2048)] = "/") -> Response:
        now, ip = clock(), request.client.host if request.client else "-"
        if not tokens_match(codec.login_token_of(request.cookies.get(LOGIN_COOKIE)), csrf):
            return login_form(request, next, 403, "页面已失效，请重新登录 / form expired")
        username = username.strip()
        keys = [f"user:{username}", f"ip:{ip}"]
        if throttle.locked_until(keys, now) is not None:
            with session_scope(sessions) as db:
                data.record_failed_login(db, username, ip, "locked", now)
            return login_form(request, next, 429,
                              "登录失败次数过多，账户已暂时锁定，请稍后再试 / locked")
        with session_scope(sessions) as db:
            identity = data.authenticate(db, username, password)
            if identity is None:
                data.record_failed_login(db, username, ip, "bad credentials", now)
        if identity is None:
            locked = throttle.failed(keys, now)
            message = ("登录失败次数过多，账户已暂时锁定，请稍后再试 / locked" if locked
                       else "用户名或密码错误 / wrong user name or password")
            return login_form(request, next, 429 if locked else 401, message)
        throttle.succeeded([f"user:{username}"])
        with session_scope(sessions) as db:
            data.record_login(db, identity.name, ip, now)
        cookie, _ = codec.issue(identity.name, now)
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(SESSION_COOKIE, cookie,
                            max_age=int(opts.session_lifetime.total_seconds()), httponly=True,
                            samesite="lax", secure=cookie_secure(request), path="/")
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @app.get("/logout", response_class=HTMLResponse, include_in_schema=False)
    def logout_page(request: Request, who: Visitor = Depends(visitor)) -> Response:
        return page(request, "logout.html", who)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, who: Visitor = Depends(visitor),
               csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "") -> Response:
        check_csrf(who, csrf)
        codec.revoke(who.session)
        with session_scope(sessions) as db:
            data.record_logout(db, who.identity.name, clock())
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # --- pages ------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def board_page(request: Request, who: Visitor = require(Action.VIEW_BOARD)) -> Response:
        with session_scope(sessions, readonly=True) as db:
            items = data.board(db, clock())
        return page(request, "board.html", who, incidents=items)

    @app.get("/incidents/{incident_id}", response_class=HTMLResponse, include_in_schema=False)
    def incident_page(request: Request, incident_id: IncidentId,
                      who: Visitor = require(Action.VIEW_BOARD),
                      error: str | None = None,
                      feedback: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
                      ) -> Response:
        return incident_view(request, incident_id, who, error, flash_document=feedback)

    def incident_view(request: Request, incident_id: int, who: Visitor,
                      error: str | None = None, status: int = 200,
                      flash_document: int | None = None) -> Response:
        with session_scope(sessions, readonly=True) as db:
            detail = data.incident_detail(db, incident_id, clock())
            if detail is not None:
                answers = procedure.responses_of(db, incident_id)
                detail.audit = sorted([*detail.audit, *procedure.response_audit(db, incident_id)],
                                      key=lambda e: e.seq)
                verdicts = data.feedback_of(db, detail.documents)
        if detail is None:
            return page(request, "error.html", who, 404, message=f"事件 #{incident_id} 不存在")
        return page(request, "incident.html", who, status, d=detail, error=error,
                    answers=answers, labels=procedure.LABELS,
                    publish_default=format_local(clock(), tz), verdicts=verdicts,
                    flash_document=flash_document, topics=TOPIC_LABELS,
                    severities=data.SEVERITY_CHOICES)

    @app.post("/incidents/{incident_id}/ack", include_in_schema=False)
    def ack_form(incident_id: IncidentId, who: Visitor = require(Action.ACKNOWLEDGE),
                 csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
                 next: Annotated[str, Form(max_length=2048)] = "/") -> Response:
        check_csrf(who, csrf)
        _acknowledge(incident_id, who)
        return RedirectResponse(safe_next(next), status_code=303)

    @app.post("/incidents/{incident_id}/t0", include_in_schema=False)
    def t0_form(request: Request, incident_id: IncidentId, who: Visitor = require(Action.CORRECT_T0),
                csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
                t_event: Annotated[str, Form(max_length=64)] = "",
                reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
        check_csrf(who, csrf)
        try:
            when = parse_local(t_event, tz)
            with session_scope(sessions) as db:
                data.correct_incident_t0(db, incident_id, when, reason, who.identity, clock(), typed)
        except (ValueError, data.IncidentError, PeopleError) as exc:
            return incident_page(request, incident_id, who, error=str(exc))
        return RedirectResponse(f"/incidents/{incident_id}", status_code=303)

    @app.get("/sources", response_class=HTMLResponse, include_in_schema=False)
    def sources_page(request: Request, who: Visitor = require(Action.VIEW_SOURCES)) -> Response:
        with session_scope(sessions, readonly=True) as db:
            rows = data.sources(db, clock())
        return page(request, "sources.html", who, sources=rows)

    @app.get("/roster", response_class=HTMLResponse, include_in_schema=False)
    def roster_page(request: Request, who: Visitor = require(Action.VIEW_ROSTER)) -> Response:
        with session_scope(sessions, readonly=True) as db:
            view = data.roster(db, typed.roster, clock())
        return page(request, "roster.html", who, roster=view)

    # --- responses: the procedure in the browser ---------------------------------------------

    def _step_failed(request: Request, incident_id: int | None, who: Visitor,
                     exc: Exception) -> Response:
        if incident_id is None:
            return page(request, "error.html", who, 404, message=str(exc))
        return incident_view(request, incident_id, who, str(exc), 400)

    def _incident_of(response_id: int) -> int | None:
        with session_scope(sessions, readonly=True) as db:
            return procedure.incident_of(db, response_id)

    def _done(line: procedure.ResponseLine) -> Response:
        return RedirectResponse(f"/incidents/{line.incident_id}#response-{line.id}",
                                status_code=303)

    @app.post("/incidents/{incident_id}/responses", include_in_schema=False)
    def draft_form(request: Request, incident_id: IncidentId,
                   who: Visitor = require(Action.DRAFT_RESPONSE),
                   csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
                   kind: Annotated[str, Form(max_length=32)] = "statement",
                   title: Annotated[str, Form(max_length=500)] = "",
                   text: Annotated[str, Form(max_length=20_000)] = "",
                   reason: Annotated[str, Form(max_length=2000)] = "",
                   filing: Annotated[str, Form(max_length=2000)] = "") -> Response:
        check_csrf(who, csrf)
        try:
            with session_scope(sessions) as db:
                line = procedure.draft(db, incident_id, kind, text, who.identity.name, clock(),
                                       title=title, reason=reason, filing=filing)
        except procedure.STEP_ERRORS as exc:
            return _step_failed(request, incident_id, who, exc)
        return _done(line)

    def _step_form(request: Request, response_id: int, who: Visitor, csrf: str,
                   take: Any) -> Response:
        check_csrf(who, csrf)
        incident_id = _incident_of(response_id)
        if incident_id is None:
            return page(request, "error.html", who, 404, message=f"回应 #{response_id} 不存在")
        try:
            line = take()
        except procedure.STEP_ERRORS as exc:
            return _step_failed(request, incident_id, who, exc)
        return _done(line)

    def _in_unit(step: Any, *args: Any, **kwargs: Any) -> procedure.ResponseLine:
        with session_scope(sessions) as db:
            line: procedure.ResponseLine = step(db, *args, **kwargs)
            return line

    @app.post("/responses/{response_id}/submit", include_in_schema=False)
    def submit_form(request: Request, response_id: ResponseId,
                    who: Visitor = require(Action.SUBMIT_RESPONSE),
                    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "") -> Response:
        return _step_form(request, response_id, who, csrf, lambda: _in_unit(
            procedure.submit, response_id, who.identity.name, clock()))

    @app.post("/responses/{response_id}/review", include_in_schema=False)
    def review_form(request: Request, response_id: ResponseId,
                    who: Visitor = require(Action.REVIEW_RESPONSE),
                    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
                    confidential_ok: Annotated[str, Form(max_length=8)] = "") -> Response:
        return _step_form(request, response_id, who, csrf, lambda: _in_unit(
            procedure.review, response_id, who.identity.name, clock(),
            confidential_ok=confidential_ok == "yes"))

    @app.post("/responses/{response_id}/reject", include_in_schema=False)
    def reject_form(request: Request, response_id: ResponseId,
                    who: Visitor = require(Action.REJECT_RESPONSE),
                    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
                    comment: Annotated[str, Form(max_length=2000)] = "") -> Response:
        return _step_form(request, response_id, who, csrf, lambda: _in_unit(
            procedure.reject, response_id, who.identity.name, comment, clock()))

    @app.post("/responses/{response_id}/approve", include_in_schema=False)
    def approve_form(request: Request, response_id: ResponseId,
                     who: Visitor = require(Action.APPROVE_RESPONSE),
                     csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = ""
                     ) -> Response:
        return _step_form(request, response_id, who, csrf, lambda: _in_unit(
            procedure.approve, response_id, who.identity.name, clock()))

    @app.post("/responses/{response_id}/publish", include_in_schema=False)
    def publish_form(request: Request, response_id: ResponseId,
                     who: Visitor = require(Action.PUBLISH_RESPONSE),
                     csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
                     published_at: Annotated[str, Form(max_length=64)] = "",
                     url: Annotated[str, Form(max_length=2000)] = "",
                     channels: Annotated[list[str] | None, Form(max_length=5)] = None
                     ) -> Response:
        def take() -> procedure.ResponseLine:
            return procedure.publish(sessions, response_id, who.identity.name,
                                     at=parse_local(published_at, tz), url=url,
                                     channels=channels or [], now=clock())
        return _step_form(request, response_id, who, csrf, take)

    # --- reports ----------------------------------------------------------------------------

    @app.get("/reports", response_class=HTMLResponse, include_in_schema=False)
    def reports_page(request: Request, who: Visitor = require(Action.VIEW_REPORTS),
                     preset: Annotated[str, Query(max_length=16)] = "",
                     from_: Annotated[str, Query(alias="from", max_length=10)] = "",
                     to: Annotated[str, Query(max_length=10)] = "") -> Response:
        """The timeliness report of a chosen period: KPIs, charts and the downloads."""
        now = clock()
        try:
            period = (periods.between(from_, to, tz) if from_ or to
                      else periods.preset(preset or "this_week", now, tz))
        except periods.PeriodError as exc:
            return page(request, "reports.html", who, 400, error=str(exc), report=None,
                        presets=periods.PRESETS, chosen=None, start=from_, end=to)
        with session_scope(sessions, readonly=True) as db:
            built = timeliness(db, period, now=now, ownership=typed.ownership)
        return page(request, "reports.html", who, report=built, presets=periods.PRESETS,
                    chosen=periods.name_of(period, now), start=period.start.isoformat(),
                    end=period.end.isoformat(), charts=_chart_uris(built), error=None)

    @app.get("/reports/export", include_in_schema=False)
    def reports_export(request: Request, who: Visitor = require(Action.VIEW_REPORTS),
                       from_: Annotated[str, Query(alias="from", max_length=10)] = "",
                       to: Annotated[str, Query(max_length=10)] = "",
                       format: Annotated[str, Query(max_length=8)] = "docx") -> Response:
        """The timeliness report of a period (Beijing dates, both included) as a download:
        the link of the scheduled report messages."""
        if format not in EXPORT_TYPES:
            raise HTTPException(422, f"格式无效 / format must be one of {', '.join(EXPORT_TYPES)}")
        try:
            period = periods.between(from_, to, tz)
        except periods.PeriodError as exc:
            raise HTTPException(422, str(exc)) from None
        with session_scope(sessions, readonly=True) as db:
            body = report_bytes(db, period, format, now=clock(), ownership=typed.ownership,
                                dashboard_url=settings.dashboard_url)
        log.info("report exported", extra={"user": who.identity.name, "format": format,
                                           "from": from_, "to": to})
        name = f"舆情回应时效报告_{period.start}_{period.end}.{format}"
        return Response(body, media_type=EXPORT_TYPES[format], headers={
            "content-disposition": f"attachment; filename=\"report_{period.start}_{period.end}"
                                   f".{format}\"; filename*=UTF-8''{quote(name)}",
            "cache-control": "no-store"})

    # --- classification feedback ------------------------------------------------------------

    def feedback_view(request: Request, document_id: int, who: Visitor, incident: int | None,
                      error: str | None = None, status: int = 200, kind: str = "wrong_topic"
                      ) -> Response:
        with session_scope(sessions, readonly=True) as db:
            doc = data.document_brief(db, document_id)
            home = data.incident_of_document(db, document_id, incident) if doc else None
            verdict = data.verdict_of(db, document_id) if doc else None
        if doc is None:
            return page(request, "error.html", who, 404, message=f"文档 #{document_id} 不存在")
        return page(request, "feedback.html", who, status, doc=doc, incident=home, error=error,
                    verdict=verdict, kind=kind, feedback_labels=data.FEEDBACK_LABELS,
                    topics=TOPIC_LABELS, severities=data.SEVERITY_CHOICES)

    @app.get("/documents/{document_id}/feedback", response_class=HTMLResponse,
             include_in_schema=False)
    def feedback_page(request: Request, document_id: DocumentId,
                      who: Visitor = require(Action.GIVE_FEEDBACK),
                      incident: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
                      ) -> Response:
        """The full form (wrong topic, wrong severity) for one document."""
        return feedback_view(request, document_id, who, incident)

    @app.post("/documents/{document_id}/feedback", include_in_schema=False)
    def feedback_form(request: Request, document_id: DocumentId,
                      who: Visitor = require(Action.GIVE_FEEDBACK),
                      csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
                      kind: Annotated[str, Form(max_length=32)] = "",
                      topic: Annotated[str, Form(max_length=32)] = "",
                      severity: Annotated[str, Form(max_length=16)] = "",
                      incident: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None
                      ) -> Response:
        """One verdict on a document's classification; back to its incident with a notice,
        or to the document's form with the reason it was refused."""
        check_csrf(who, csrf)
        try:
            with session_scope(sessions) as db:
                data.give_feedback(db, document_id, kind, who.identity, clock(), typed,
                                   topic=topic, severity=severity)
                home = data.incident_of_document(db, document_id, incident)
        except (data.FeedbackError, PeopleError) as exc:
            return feedback_view(request, document_id, who, incident, str(exc), 400,
                                 kind=kind)
        if home is None:  # a document of no incident: its own page says it is done
            return RedirectResponse(f"/documents/{document_id}/feedback", status_code=303)
        return RedirectResponse(f"/incidents/{home}?feedback={document_id}#document-{document_id}",
                                status_code=303)

    # --- JSON API ---------------------------------------------------------------------------

    def _acknowledge(incident_id: IncidentId, who: Visitor) -> int:
        try:
            with session_scope(sessions) as db:
                return data.acknowledge(db, incident_id, who.identity, clock(), typed)
        except data.IncidentError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get("/api/incidents", response_model=list[IncidentOut], responses=API_ERRORS,
             summary="未结束的事件（按紧急程度排序）")
    def api_incidents(who: Visitor = require(Action.VIEW_BOARD)) -> list[dict[str, Any]]:
        with session_scope(sessions, readonly=True) as db:
            return [i.as_json() for i in data.board(db, clock())]

    @app.get("/api/incidents/{incident_id}", response_model=IncidentOut,
             responses={**API_ERRORS, 404: {"model": Problem}}, summary="单个事件")
    def api_incident(incident_id: IncidentId,
                     who: Visitor = require(Action.VIEW_BOARD)) -> dict[str, Any]:
        with session_scope(sessions, readonly=True) as db:
            detail = data.incident_detail(db, incident_id, clock())
        if detail is None:
            raise HTTPException(404, f"事件 #{incident_id} 不存在")
        return detail.incident.as_json()

    @app.get("/api/clocks", response_model=ClocksOut, responses=API_ERRORS,
             summary="未结束事件的全部时限及服务器时间")
    def api_clocks(who: Visitor = require(Action.VIEW_BOARD)) -> dict[str, Any]:
        now = clock()
        with session_scope(sessions, readonly=True) as db:
            lines = data.clocks(db, now)
        return {"now": now.isoformat(), "poll_seconds": opts.poll_seconds,
                "clocks": [c.as_json() for c in lines]}

    @app.post("/api/incidents/{incident_id}/ack", response_model=AckOut,
              responses={**API_ERRORS, 404: {"model": Problem}}, summary="确认事件预警")
    def api_ack(incident_id: IncidentId, request: Request,
                who: Visitor = require(Action.ACKNOWLEDGE)) -> dict[str, Any]:
        check_csrf(who, request.headers.get(CSRF_HEADER))
        count = _acknowledge(incident_id, who)
        return {"incident_id": incident_id, "acknowledged_by": who.identity.name,
                "notifications": count}

    # --- JSON API: responses ----------------------------------------------------------------

    STEP_ERRORS: dict[int | str, dict[str, Any]] = {
        **API_ERRORS, 400: {"model": Problem, "description": "程序不允许此步骤（未改动任何内容）"},
        404: {"model": Problem}}

    def _api_step(response_id: int, take: Any) -> dict[str, Any]:
        if _incident_of(response_id) is None:
            raise HTTPException(404, f"回应 #{response_id} 不存在")
        try:
            line: procedure.ResponseLine = take()
        except procedure.STEP_ERRORS as exc:
            raise HTTPException(400, str(exc)) from None
        return line.as_json()

    @app.get("/api/incidents/{incident_id}/responses", response_model=list[ResponseOut],
             responses={**API_ERRORS, 404: {"model": Problem}}, summary="事件的回应及其程序步骤")
    def api_responses(incident_id: IncidentId,
                      who: Visitor = require(Action.VIEW_BOARD)) -> list[dict[str, Any]]:
        with session_scope(sessions, readonly=True) as db:
            if not data.incident_exists(db, incident_id):
                raise HTTPException(404, f"事件 #{incident_id} 不存在")
            return [r.as_json() for r in procedure.responses_of(db, incident_id)]

    @app.post("/api/incidents/{incident_id}/responses", response_model=ResponseOut,
              status_code=201, responses=STEP_ERRORS, summary="起草回应（业务科室）")
    def api_draft(incident_id: IncidentId, body: DraftIn, request: Request,
                  who: Visitor = require(Action.DRAFT_RESPONSE)) -> dict[str, Any]:
        check_csrf(who, request.headers.get(CSRF_HEADER))
        try:
            with session_scope(sessions) as db:
                if not data.incident_exists(db, incident_id):
                    raise HTTPException(404, f"事件 #{incident_id} 不存在")
                return procedure.draft(db, incident_id, body.kind, body.text, who.identity.name,
                                       clock(), title=body.title, reason=body.reason,
                                       filing=body.filing).as_json()
        except procedure.STEP_ERRORS as exc:
            raise HTTPException(400, str(exc)) from None

    @app.post("/api/responses/{response_id}/submit", response_model=ResponseOut,
              responses=STEP_ERRORS, summary="提交审核（业务科室）")
    def api_submit(response_id: ResponseId, request: Request,
                   who: Visitor = require(Action.SUBMIT_RESPONSE)) -> dict[str, Any]:
        check_csrf(who, request.headers.get(CSRF_HEADER))
        return _api_step(response_id, lambda: _in_unit(procedure.submit, response_id,
                                                       who.identity.name, clock()))

    @app.post("/api/responses/{response_id}/review", response_model=ResponseOut,
              responses=STEP_ERRORS, summary="办公室审核，须保密审查通过")
    def api_review(response_id: ResponseId, body: ReviewIn, request: Request,
                   who: Visitor = require(Action.REVIEW_RESPONSE)) -> dict[str, Any]:
        check_csrf(who, request.headers.get(CSRF_HEADER))
        return _api_step(response_id, lambda: _in_unit(
            procedure.review, response_id, who.identity.name, clock(),
            confidential_ok=body.confidential_ok))

    @app.post("/api/responses/{response_id}/reject", response_model=ResponseOut,
              responses=STEP_ERRORS, summary="退回修改（须写明意见）")
    def api_reject(response_id: ResponseId, body: RejectIn, request: Request,
                   who: Visitor = require(Action.REJECT_RESPONSE)) -> dict[str, Any]:
        check_csrf(who, request.headers.get(CSRF_HEADER))
        return _api_step(response_id, lambda: _in_unit(
            procedure.reject, response_id, who.identity.name, body.comment, clock()))

    @app.post("/api/responses/{response_id}/approve", response_model=ResponseOut,
              responses=STEP_ERRORS, summary="领导审批")
    def api_approve(response_id: ResponseId, request: Request,
                    who: Visitor = require(Action.APPROVE_RESPONSE)) -> dict[str, Any]:
        check_csrf(who, request.headers.get(CSRF_HEADER))
        return _api_step(response_id, lambda: _in_unit(procedure.approve, response_id,
                                                       who.identity.name, clock()))

    @app.post("/api/responses/{response_id}/publish", response_model=ResponseOut,
              responses=STEP_ERRORS, summary="登记发布（取证网址页面并计算 SHA-256）")
    def api_publish(response_id: ResponseId, body: PublishIn, request: Request,
                    who: Visitor = require(Action.PUBLISH_RESPONSE)) -> dict[str, Any]:
        check_csrf(who, request.headers.get(CSRF_HEADER))
        at = body.published_at if body.published_at.tzinfo else body.published_at.replace(
            tzinfo=tz)
        return _api_step(response_id, lambda: procedure.publish(
            sessions, response_id, who.identity.name, at=at, url=body.url,
            channels=list(body.channels), now=clock()))

    # --- JSON API: reports and feedback -------------------------------------------------------

    @app.get("/api/openapi.json", include_in_schema=False)
    def api_schema(who: Visitor = require(Action.VIEW_BOARD)) -> dict[str, Any]:
        return app.openapi()

    return app


def _chart_uris(report: TimelinessReport) -> list[tuple[str, str]]:
    """(title, ``data:image/png;base64,…``) of the report's charts, drawn with matplotlib's
    Agg canvas in the font the report package ships."""
    return [(title, "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
            for title, png in report_charts(report)]


def _http_url(value: str | None) -> str | None:
    """The URL when it is plain http(s), else None (a ``javascript:`` link renders as text)."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _left(seconds: int) -> str:
    """``剩余 4小时10分`` / ``已超时 5分`` for the first render, before the script ticks."""
    hours, minutes = divmod(abs(seconds) // 60, 60)
    text = f"{hours}小时{minutes}分" if hours else f"{minutes}分"
    return f"剩余 {text}" if seconds >= 0 else f"已超时 {text}"
