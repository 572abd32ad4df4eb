"""The user's language: a complete catalog, and Simplified Chinese through the real program.

The catalog (scheduler/locale/) must hold every text the program shows, each translated,
none fuzzy, none left over from texts that are gone; its .mo must be what msgfmt makes of
its .po. Then the real program under ``LANGUAGE=zh_CN``: the commands, --help, a reminder
on a real dunst with its buttons, the report's page and picture; and `--json`, which is
for scripts, the same in every language.
"""

from __future__ import annotations

import gettext
import json
import os
import shutil
import subprocess
import warnings
from datetime import datetime
from pathlib import Path

import pytest

from scheduler import i18n
from tests.support import catalog
from tests.support.daemon_proc import Daemon, cli, clock_in
from tests.support.fixtures import SHIPPED_ROUTINES, Dirs
from tests.test_report import (  # noqa: F401 (its fixtures)
    BERLIN,
    CHROMIUM,
    MARCH,
    build_march,
    chromium,
    march,
    needs_chromium,
)

PO = catalog.LOCALE / "zh_CN" / "LC_MESSAGES" / "crampguard.po"
MO = PO.with_suffix(".mo")
MSGFMT = shutil.which("msgfmt")
needs_msgfmt = pytest.mark.skipif(MSGFMT is None,
                                  reason="needs msgfmt (Debian package: gettext)")
#: A Chinese character anywhere in a text.
HAN = range(0x4E00, 0xA000)


def chinese(text: str) -> bool:
    return any(ord(c) in HAN for c in text)


@pytest.fixture
def zh(isolated: Dirs) -> dict[str, str]:
    """The environment of a user whose language is Simplified Chinese."""
    return {**os.environ, "LANGUAGE": "zh_CN"}


# --- the catalog ---------------------------------------------------------------------------


def test_every_text_shown_is_in_the_catalog_and_translated() -> None:
    """A text added without its translation (a new command's help, say) fails here, named
    with the file and line that show it: `python -m tests.support.catalog` then msgmerge
    bring it into the .po (README, "Language")."""
    wanted = catalog.extract()
    entries = catalog.read_po(PO)
    have = {(e.context, e.id): e for e in entries if not e.obsolete}
    problems = []
    for key, message in sorted(wanted.items(), key=lambda kv: kv[1].places[0]):
        entry = have.get(key)
        where = ", ".join(message.places[:3])
        if entry is None:
            problems.append(f"not in {PO.name}: {message.id!r} ({where})")
        elif entry.fuzzy:
            problems.append(f"fuzzy in {PO.name}: {message.id!r} ({where})")
        elif not all(entry.strings) or not entry.strings:
            problems.append(f"untranslated in {PO.name}: {message.id!r} ({where})")
    problems += [f"obsolete in {PO.name} (no longer in the program): {e.id!r}"
                 for e in entries if e.obsolete or (e.context, e.id) not in wanted]
    assert not problems, "\n".join(problems)


def _without_references(text: str) -> list[str]:
    # Where a text is used ("#: file:line") moves with every edit above it; what matters
    # is that the same texts are there.
    return [line for line in text.splitlines() if not line.startswith("#:")]


def test_the_template_is_written_from_the_sources() -> None:
    assert _without_references(catalog.POT.read_text(encoding="utf-8")) == \
        _without_references(catalog.pot_text(catalog.extract())), \
        "scheduler/locale/crampguard.pot is stale: run `python -m tests.support.catalog`"


@needs_msgfmt
def test_msgfmt_finds_the_translation_clean_and_the_mo_fresh(tmp_path: Path) -> None:
    made = tmp_path / "crampguard.mo"
    result = subprocess.run([str(MSGFMT), "--check", "--statistics", "-o", str(made), str(PO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # "N translated messages." and nothing fuzzy or untranslated beside it
    assert "translated messages" in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr
    with open(made, "rb") as fresh, open(MO, "rb") as shipped:
        assert gettext.GNUTranslations(fresh)._catalog == \
            gettext.GNUTranslations(shipped)._catalog, \
            f"{MO} is stale: run msgfmt -o {MO} {PO}"  # type: ignore[attr-defined]


def test_plural_forms_in_both_languages() -> None:
    assert [i18n.ngettext("{n} day", "{n} days", n).format(n=n) for n in (1, 2)] == \
        ["1 day", "2 days"]
    i18n.use("zh_CN")
    assert [i18n.ngettext("{n} day", "{n} days", n).format(n=n) for n in (1, 2)] == \
        ["1 天", "2 天"]


@pytest.mark.parametrize(("setting", "environ", "language"), [
    (None, {"LANGUAGE": "zh_CN"}, "zh_CN"),
    (None, {"LC_ALL": "zh_CN.UTF-8"}, "zh_CN"),
    (None, {"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_GB.UTF-8"}, "zh_CN"),
    (None, {"LANG": "zh_CN.UTF-8"}, "zh_CN"),
    (None, {"LANGUAGE": "zh"}, "zh_CN"),
    (None, {"LANGUAGE": "en:zh_CN", "LANG": "zh_CN.UTF-8"}, "en"),
    (None, {"LANGUAGE": "fr_FR:zh_CN"}, "zh_CN"),  # no French: the next one asked for
    (None, {"LANGUAGE": "de"}, "en"),  # nothing to be had: English, the message ids
    (None, {"LC_ALL": "C"}, "en"),
    (None, {}, "en"),
    ("zh-CN", {"LANGUAGE": "en"}, "zh_CN"),  # the setting wins over the environment
    ("en", {"LANGUAGE": "zh_CN"}, "en"),
    ("auto", {"LANGUAGE": "zh_CN"}, "zh_CN"),
])
def test_which_language(setting: str | None, environ: dict[str, str], language: str) -> None:
    assert i18n.use(setting, environ) == language


def test_only_shipped_routine_texts_are_translated() -> None:
    i18n.use("zh_CN")
    assert i18n.routine_text("Warm foot soak before bed") == "睡前热水泡脚"
    assert i18n.routine_text("My own stretch") == "My own stretch"
    assert i18n.routine_text("Done") == "Done"  # a button's word, not a routine's title


# --- the real program in Chinese -------------------------------------------------------------


def test_help_is_chinese(zh: dict[str, str]) -> None:
    for args in ((), ("next",), ("service", "install")):
        result = cli(*args, "--help", env=zh)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("用法："), result.stdout
        assert chinese(result.stdout) and "显示此帮助信息并退出" in result.stdout
    assert "按时间顺序列出接下来的提醒" in cli("--help", env=zh).stdout
    # a bad command line, in Chinese too
    result = cli("next", "--count", "many", env=zh)
    assert result.returncode == 2 and "错误" in result.stderr and "无效的 int 值" in result.stderr


def test_next_and_list_in_chinese(zh: dict[str, str]) -> None:
    result = cli("next", "--from", "2026-03-02T21:00", "--count", "3", env=zh)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "周一 2026-03-02 21:45:00 +0100  foot-soak              睡前热水泡脚",
        "周一 2026-03-02 22:15:00 +0100  calf-stretch           睡前拉伸小腿"]
    listing = cli("list", env=zh)
    assert listing.returncode == 0, listing.stderr
    assert "foot-soak               开  每天 21:45 (bedtime - 45m)" in listing.stdout
    assert "elastic-socks           关" in listing.stdout
    # the routine grammar stays as written: anchors and their offsets
    assert "(bedtime - 15m)，或foot-soak 完成后 20m" in listing.stdout


def test_check_of_a_broken_file_in_chinese(zh: dict[str, str], routines: Path) -> None:
    (routines / "stretch.toml").write_text(
        'schema_version = 1\ntitle = "Stretch"\nmessage = "m"\n[schedule]\nat = "25:00"\n')
    result = cli("--routines", str(routines), "check", env=zh)
    assert result.returncode == 1
    assert "schedule.at: 不可能的时刻：" in result.stderr, result.stderr
    assert '请用 24 小时制 "HH:MM" 或 "HH:MM:SS"' in result.stderr


def test_stats_and_doctor_in_chinese(zh: dict[str, str]) -> None:
    stats = cli("stats", env=zh)
    assert stats.returncode == 0, stats.stderr
    assert stats.stdout.splitlines()[0] == "最近 30 天"
    assert "（日志里还什么都没有）" in stats.stdout and "记录的抽筋次数：0" in stats.stdout
    doctor = cli("doctor", env={**zh, "CRAMPGUARD_NOTIFIER": "console",
                                "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"})
    assert "每个已启用例程的下一次：" in doctor.stdout, doctor.stdout
    assert "时区：Europe/Berlin" in doctor.stdout and "守护进程：没有运行" in doctor.stdout


def test_the_language_setting_in_config_toml(isolated: Dirs) -> None:
    isolated.config.mkdir(parents=True, exist_ok=True)
    isolated.config_file.write_text('language = "zh_CN"\n')
    assert cli("--help").stdout.startswith("用法：")
    assert "正常：" in cli("check").stdout
    env = {**os.environ, "CRAMPGUARD_LANGUAGE": "en"}  # the environment over the file
    assert cli("check", env=env).stdout.startswith("ok: ")
    isolated.config_file.write_text('language = "Chinese please"\n')
    result = cli("check")
    assert result.returncode == 1 and "language: not a language" in result.stderr


@pytest.mark.parametrize("args", [
    ("next", "--from", "2026-03-02T12:00", "--count", "20"), ("list",), ("stats",),
    ("check",), ("history",), ("next", "--count", "0"), ("pause",)])
def test_json_is_the_same_in_every_language(zh: dict[str, str], args: tuple[str, ...]) -> None:
    english = cli(*args, "--json", env=os.environ)
    assert english.stdout  # an answer, or an error as JSON
    chinese_run = cli(*args, "--json", env=zh)
    assert (chinese_run.returncode, chinese_run.stdout) == (english.returncode, english.stdout)


# --- the report ------------------------------------------------------------------------------


def test_the_picture_has_every_glyph(march: Path) -> None:  # noqa: F811
    """matplotlib warns "Glyph … missing from font(s)" where it draws a box: an error."""
    from scheduler.report import picture

    if not picture.can_draw("zh_CN")[0]:
        pytest.skip("no Chinese font (Debian package: fonts-wqy-microhei)")
    i18n.use("zh_CN")
    built, _problems = build_march(march)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = picture.render(built, made=datetime(2026, 4, 1, tzinfo=BERLIN), version="test")
    assert png.startswith(b"\x89PNG")


def test_the_real_program_writes_a_chinese_report(march: Path, zh: dict[str, str],  # noqa: F811
                                                  tmp_path: Path) -> None:
    page, image = tmp_path / "march.html", tmp_path / "march.png"
    result = cli("--routines", str(march), "report", *MARCH, "--out", str(page), env=zh)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"已写入 {page}（单个网页，HTML）")
    html = page.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    assert "<h1>腿抽筋预防例程</h1>" in html and "2026年3月" in html
    assert "Calf &lt;b&gt;stretch&lt;/b&gt; &amp; more" in html  # a user's title, escaped
    result = cli("--routines", str(march), "report", *MARCH, "--out", str(image), env=zh)
    assert result.returncode == 0, result.stderr
    assert "missing from font" not in result.stderr
    if CHROMIUM is not None:
        shot = tmp_path / "shot.png"
        chromium(page, tmp_path, f"--screenshot={shot}")
        assert shot.exists()
    if os.environ.get("KEEP_REPORT_SHOTS"):  # to look at them
        for kept in tmp_path.glob("*.png"):
            shutil.copy(kept, Path(os.environ["KEEP_REPORT_SHOTS"]) / f"zh-{kept.name}")
    english = cli("--routines", str(march), "report", *MARCH, "--out",
                  str(tmp_path / "en.html"))
    assert '<html lang="en">' in (tmp_path / "en.html").read_text(encoding="utf-8"), \
        english.stderr


@needs_chromium
def test_chromium_shows_the_chinese_page(march: Path, zh: dict[str, str],  # noqa: F811
                                         tmp_path: Path) -> None:
    from matplotlib.image import imread

    page = tmp_path / "march.html"
    assert cli("--routines", str(march), "report", *MARCH, "--out", str(page),
               env=zh).returncode == 0
    shot = tmp_path / "zh.png"
    result = chromium(page, tmp_path, f"--screenshot={shot}")
    assert shot.exists(), result.stderr
    pixels = imread(shot)[:, :, :3]
    assert pixels.std() > 0.1  # not blank


# --- a reminder on a real desktop -------------------------------------------------------------


@pytest.mark.slow
def test_a_chinese_reminder_and_its_button_in_dunst(desktop, routines: Path) -> None:
    shipped = (SHIPPED_ROUTINES / "foot-soak.toml").read_text(encoding="utf-8")
    (routines / "foot-soak.toml").write_text(
        shipped.replace('at = "bedtime - 45m"', f'at = "{clock_in(4)}"')
        .replace('quiet_hours = "respect"', 'quiet_hours = "ignore"'), encoding="utf-8")
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus", "LANGUAGE": "zh_CN"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        shown = int(daemon.wait_for(r"delivered foot-soak via dbus as #(\d+)", timeout=8)[1])
        offered = desktop.context_menu(f"[{shown},done]")
        assert any("完成" in entry for entry in offered), offered
        assert any("10 分钟后提醒" in entry for entry in offered), offered
        mark = daemon.mark()
        daemon.wait_for(r"done foot-soak \(due ", timeout=3, after=mark)
        assert daemon.stop() == 0
    notice = desktop.history()[-1]
    assert notice["summary"] == "睡前热水泡脚"
    assert notice["body"].startswith("用温度适宜的热水泡脚约 15 分钟。")
    # the journal, as data, is the same in any language
    history = json.loads(cli("history", "--routine", "foot-soak", "--json", env=env).stdout)
    assert history[0]["kind"] == "done" and history[0]["routine"] == "foot-soak"
