"""The dashboard in real headless Chromium (Debian's ``chromium``, driven by Playwright):
log in from an alert link on a phone, watch a countdown follow the server's clock, acknowledge,
and load crawled markup without any of it running.

Skipped with the reason when Chromium or Playwright is missing; ``YUQING_REQUIRE_BROWSER=1``
(CI) turns the skip into a failure. Screenshots go to the test's tmp dir and var/artefacts/web.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import PASSWORD, XSS_BODY, XSS_TITLE, LiveServer

CHROMIUM = Path(os.environ.get("YUQING_CHROMIUM", "/usr/bin/chromium"))
REQUIRE = os.environ.get("YUQING_REQUIRE_BROWSER") == "1"
ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "web"
# The flags a closed network needs: no background calls home, no sandbox as root.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"Playwright is not installed ({exc}); pip install -e '.[dev]'"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found; install Debian's chromium (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason is not None:
        if REQUIRE:
            pytest.fail(f"browser required (YUQING_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTEFACTS / path.name)
    return path


def test_an_officer_logs_in_from_an_alert_link_watches_the_countdown_and_acknowledges(
        browser: Any, live_server: LiveServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    world = live_server.world
    incident = world.incident(t_event=world.clock() - timedelta(hours=1))
    context = browser.new_context(**PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.base_url}/incidents/{incident}")  # the link in the alert
    expect(page).to_have_url(re.compile(rf"/login\?next=/incidents/{incident}$"))
    page.fill("input[name=username]", "zhangsan")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.base_url}/incidents/{incident}")
    expect(page.locator("h1")).to_contain_text("考场泄题")
    shot(page, tmp_path, "incident-phone")

    page.goto(f"{live_server.base_url}/")
    statement = page.locator(f'.clock[data-key="{incident}:statement:0"]')
    countdown = statement.locator(".countdown")
    expect(countdown).to_have_text(re.compile(r"剩余 (3小时59分|4小时0分)"))
    world.clock.advance(timedelta(hours=2))  # the server's clock; the page polls every second
    expect(countdown).to_have_text(re.compile(r"剩余 (1小时5\d分|2小时0分)"), timeout=10_000)
    world.clock.advance(timedelta(hours=1, minutes=30))
    expect(statement).to_have_class(re.compile(r"state-due_soon"), timeout=10_000)
    world.clock.advance(timedelta(hours=1))
    expect(countdown).to_have_text(re.compile(r"已超时 \d+分"), timeout=10_000)
    expect(statement).to_have_class(re.compile(r"state-overdue"))
    expect(statement.locator(".clock-state")).to_have_text("已超时")
    shot(page, tmp_path, "board-overdue-phone")

    page.click(f"#incident-{incident} button.ack")
    expect(page.locator(f"#incident-{incident} .acked")).to_have_text("已确认（zhangsan）")
    expect(page.locator(f"#incident-{incident} button.ack")).to_have_count(0)
    shot(page, tmp_path, "board-acknowledged-phone")
    assert errors == []
    context.close()


def test_crawled_script_handlers_and_javascript_links_do_not_run(
        browser: Any, live_server: LiveServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    world = live_server.world
    incident = world.incident()
    world.document(incident, XSS_TITLE, XSS_BODY, "javascript:window.__xss=4")
    world.document(incident, "正常报道", XSS_BODY, "https://news.example.cn/a.html")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.base_url}/login?next=/incidents/{incident}")
    page.fill("input[name=username]", "gongkai")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".documents")).to_contain_text('<script>document.title="pwned"</script>')
    expect(page.locator(".documents")).to_contain_text("javascript:window.__xss=4")
    assert page.evaluate("window.__xss") is None
    assert page.title() != "pwned"
    assert page.locator(".documents script, .documents img").count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    page.locator(".documents a", has_text="正常报道").get_attribute("href")
    shot(page, tmp_path, "incident-crawled-markup")
    assert dialogs == [] and page.evaluate("window.__xss") is None
    context.close()


def _log_in(browser: Any, base_url: str, name: str, incident: int) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(f"{base_url}/login?next=/incidents/{incident}")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


def test_three_users_take_a_statement_from_draft_to_published(
        browser: Any, live_server: LiveServer, statement_site: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    world, base = live_server.world, live_server.base_url
    incident = world.incident(t_event=world.clock() - timedelta(hours=1))
    section = _log_in(browser, base, "xuanchuan", incident)
    section.select_option("select[name=kind]", "statement")
    section.fill("input[name=title]", "关于网传考场泄题一事的情况通报")
    section.fill("textarea[name=text]", "经核查，网传考场泄题一事不实，考试组织符合规定。")
    section.click("button.draft-response")
    answer = section.locator(".response").first
    expect(answer.locator(".response-state")).to_have_text("草稿")
    answer.locator("button.submit-response").click()
    expect(section.locator(".response .response-state").first).to_have_text("待审核")
    expect(section.locator("button.review-response")).to_have_count(0)  # not the section's step

    office = _log_in(browser, base, "gongkai", incident)
    expect(office.locator("button.approve-response")).to_have_count(0)
    office.locator("button.review-response").click()  # the box left unticked: refused
    expect(office.locator("p.error")).to_contain_text("保密审查")
    expect(office.locator(".response .response-state").first).to_have_text("待审核")
    office.check("input[name=confidential_ok]")
    office.locator("button.review-response").click()
    expect(office.locator(".response .response-state").first).to_have_text("已审核待审批")

    leader = _log_in(browser, base, "fujuzhang", incident)
    expect(leader.locator("button.publish-response, button.review-response")).to_have_count(0)
    leader.locator("button.approve-response").click()
    expect(leader.locator(".response .response-state").first).to_have_text("已审批待发布")
    shot(leader, tmp_path, "response-approved-leader")

    section.reload()
    section.fill("input[name=url]", statement_site)
    section.check("input[name=channels][value=website]")
    section.check("input[name=channels][value=wechat]")
    section.click("button.publish-response")
    published = section.locator(".response").first
    expect(published.locator(".response-state")).to_have_text("已发布")
    expect(published.locator(".publication")).to_contain_text("门户网站、微信公众号")
    expect(published.locator(".sha256")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    statement = section.locator(f'.clock[data-key="{incident}:statement:0"]')
    expect(statement).to_have_class(re.compile(r"state-met_on_time"))
    expect(statement.locator(".clock-state")).to_have_text("按时完成")
    expect(section.locator(".responses .steps li")).to_have_count(5)
    shot(section, tmp_path, "response-published-section")
    for page in (section, office, leader):
        page.context.close()


def test_a_leader_opens_the_reports_picks_last_week_and_downloads_the_word_report(
        browser: Any, live_server: LiveServer, tmp_path: Path) -> None:
    from docx import Document as Docx
    from playwright.sync_api import expect

    world, base = live_server.world, live_server.base_url
    world.incident(t_event=world.clock() - timedelta(hours=1))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/login?next=/")
    page.fill("input[name=username]", "fujuzhang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("header nav a[href='/reports']")
    expect(page.locator(".period-label")).to_have_text("2026-11-23 至 2026-11-29")
    expect(page.locator(".incident-count")).to_have_text("1")
    expect(page.locator(".charts img.chart")).to_have_count(2)
    assert page.locator(".charts img.chart").first.evaluate("img => img.naturalWidth") > 0
    shot(page, tmp_path, "reports-leader")

    page.click("a[data-preset=last_week]")
    expect(page.locator(".period-label")).to_have_text("2026-11-16 至 2026-11-22")
    page.fill("input[name=from]", "2026-11-23")
    page.fill("input[name=to]", "2026-11-29")
    page.click(".period-form button[type=submit]")
    expect(page.locator(".period-label")).to_have_text("2026-11-23 至 2026-11-29")
    with page.expect_download() as info:
        page.click("a.download-docx")
    download = info.value
    assert download.suggested_filename == "舆情回应时效报告_2026-11-23_2026-11-29.docx"
    saved = tmp_path / "report.docx"
    download.save_as(str(saved))
    text = "\n".join(p.text for p in Docx(str(saved)).paragraphs)
    assert "2026-11-23" in text and "2026-11-29" in text
    assert errors == []
    context.close()


def test_an_officer_sees_the_heat_chart_and_marks_a_document_wrong_topic(
        browser: Any, live_server: LiveServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    world, base = live_server.world, live_server.base_url
    now = world.clock()
    incident = world.incident(t_event=now - timedelta(hours=3))
    for n, ago in enumerate((170, 160, 100, 40, 35, 30)):
        doc = world.document(incident, f"网帖{n}：考场泄题", "考生质疑考试公平。",
                             f"https://bbs.example.cn/t/{n}",
                             published_at=now - timedelta(minutes=ago))
    page = _log_in(browser, base, "zhangsan", incident)
    chart = page.locator("svg.heat-chart")
    expect(chart).to_have_attribute("data-bars", "3")  # 05:00, 06:00, 07:00 Beijing
    expect(chart.locator("rect.bar")).to_have_count(3)
    assert [chart.locator("rect.bar").nth(i).get_attribute("data-count") for i in range(3)] \
        == ["2", "1", "3"]
    expect(chart.locator("line.t0-mark")).to_have_count(1)
    page.locator(f"#document-{doc - 1} button.feedback-false-alarm").click()  # one click
    expect(page.locator("p.flash")).to_contain_text(f"已记录对文档 #{doc - 1} 的分类反馈")
    expect(page.locator(f"#document-{doc - 1} .verdict")).to_contain_text("误报")
    page.locator(f"#document-{doc} a.feedback-more").click()
    page.locator("button.give-feedback").click()  # wrong topic chosen, no topic: refused
    expect(page.locator("p.error")).to_contain_text("需要正确的主题")
    page.select_option("select[name=topic]", "exam")
    page.locator("button.give-feedback").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident}\?feedback={doc}#document-{doc}$"))
    expect(page.locator("p.flash")).to_contain_text(f"已记录对文档 #{doc} 的分类反馈")
    expect(page.locator(f"#document-{doc} .verdict")).to_contain_text("主题错误 → 法律职业资格考试")
    shot(page, tmp_path, "incident-heat-feedback")
    page.context.close()
