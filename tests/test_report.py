"""`crampguard report` over a hand-built month: March 2026 in Europe/Berlin, with the
change to summer time on Sunday 29 March (02:00 CET becomes 03:00 CEST) inside.

Every expected number is worked out by hand in the comments of ``march``. The model is
checked directly, against `crampguard stats` over the same days, and through the real
program: the HTML page (opened in headless Chromium where it is installed), the PNG.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from scheduler.cli import report_commands, times
from scheduler.config.context import Context
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE, resolve_paths
from scheduler.report import legend
from scheduler.report.model import NO_EVIDENCE
from tests.support.daemon_proc import cli
from tests.support.fixtures import Dirs
from tests.support.routines import routine_head, routine_text
from tests.test_installed import crampguard, target, wheel  # noqa: F401 (its fixtures)
from tests.test_stats import reminder

BERLIN = ZoneInfo("Europe/Berlin")
MARCH = ("--from", "2026-03-01", "--to", "2026-03-31")
#: A routine title with markup in it: the page must show it, not obey it.
TITLE = "Calf <b>stretch</b> & more"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs a headless browser (Debian package: chromium)")


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def march(isolated: Dirs, tmp_path: Path) -> Path:
    """The routines folder (for --routines) of a month written into the journal."""
    folder = tmp_path / "routines"
    folder.mkdir()
    # an evening routine (its seed is a bedtime step), a day routine, one switched off
    (folder / "stretch.toml").write_text(routine_text(TITLE, "22:00"))
    (folder / "breaks.toml").write_text(
        routine_head("Leg breaks", "Move.", seed="leg-exercise-breaks-when-sitting")
        + '[schedule]\nat = "10:00"\n')
    (folder / "off.toml").write_text(routine_text("Switched off", "09:00",
                                                  extra="enabled = false"))
    m = timedelta(minutes=5)
    with Journal.open(isolated.state / JOURNAL_FILE) as j:
        # stretch, 22:00: done 1-12, shown and not answered 13-24, done 25, skipped 26,
        # missed 27 (the computer was off: recorded the next morning), held 28 (quiet
        # hours: nothing was due), done 29, 30, 31.
        for day in range(1, 32):
            due = berlin(day, 22)
            if day == 26:
                reminder(j, "stretch", due, ("skipped", due + m))
            elif day == 27:
                j.record("due", "stretch", at=berlin(28, 8), due=due)
                j.record("missed", "stretch", at=berlin(28, 8), due=due)
            elif day == 28:
                j.record("held", "stretch", at=due, due=due, detail={"reason": "quiet hours"})
            elif 13 <= day <= 24:
                reminder(j, "stretch", due)
            else:
                reminder(j, "stretch", due, ("done", due + m))

        # breaks: one day of each status, and the two sides of the clock change.
        reminder(j, "breaks", datetime(2026, 2, 28, 10, tzinfo=BERLIN), ("done", berlin(1, 0)))
        #   ^ before the period: not counted
        reminder(j, "breaks", berlin(2, 10), ("done", berlin(2, 10) + m))
        reminder(j, "breaks", berlin(2, 12))
        j.record("held", "breaks", at=berlin(2, 14), due=berlin(2, 14),
                 detail={"reason": "quiet hours"})
        #   ^ Mon 2: done (the furthest of three): 2 due, 2 shown, 1 done, 1 held back
        reminder(j, "breaks", berlin(3, 10), ("skipped", berlin(3, 10) + m))  # skipped
        reminder(j, "breaks", berlin(4, 10))  # shown, not answered
        j.record("due", "breaks", at=berlin(5, 13), due=berlin(5, 10))
        j.record("missed", "breaks", at=berlin(5, 13), due=berlin(5, 10))  # missed
        j.record("held", "breaks", at=berlin(6, 10), due=berlin(6, 10),
                 detail={"reason": "paused until 12:00"})  # held
        # Sat 7 and Sun 8: nothing: not due
        j.record("held", "breaks", at=berlin(9, 10), due=berlin(9, 10),
                 detail={"reason": "away", "waiting": True})
        reminder(j, "breaks", berlin(9, 10))  # Mon 9: waited, then shown: shown
        reminder(j, "breaks", berlin(10, 10))
        j.record("held", "breaks", at=berlin(10, 10, 10), due=berlin(10, 10),
                 detail={"reason": "away", "repeat": 1})
        #   ^ Tue 10: shown; its repeat held back is no held reminder
        j.record("triggered", "breaks", at=berlin(11, 15), due=berlin(11, 15),
                 detail={"manual": True})
        j.record("done", "breaks", at=berlin(11, 15, 1), due=berlin(11, 15),
                 detail={"manual": True})  # Wed 11: `crampguard trigger`: not due
        reminder(j, "breaks", berlin(28, 23, 30), ("done", berlin(28, 23, 35)))
        #   ^ 23:30 CET = 22:30 UTC: Saturday 28 (at summer time's offset it would be 29)
        reminder(j, "breaks", datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN))  # 01:30 CET
        reminder(j, "breaks", berlin(29, 10), ("done", berlin(29, 10) + m))  # 10:00 CEST
        #   ^ Sun 29: done (2 due, 2 shown, 1 done)
        reminder(j, "breaks", berlin(30, 0, 30))
        #   ^ 00:30 CEST = 22:30 UTC on the 29th: Monday 30, shown (at winter time's offset
        #     it would be Sunday 29)
        j.record("skipped", "breaks", at=berlin(31, 20), due=datetime(2026, 4, 1, 10,
                                                                      tzinfo=BERLIN))
        #   ^ skipped ahead, due after the period: Tue 31 stays not due

        # The cramp log, night by night (night D: noon on D to noon on D + 1):
        for night in (1, 3, 4, 5, 6, 7, 8, 21, 25, 29):
            if night == 3:  # "one", corrected to "none": quiet
                j.log_night(date(2026, 3, 3), "one", at=berlin(4, 8), source="checkin")
            j.log_night(date(2026, 3, night), "none", at=berlin(night + 1, 8, 5),
                        source="checkin")
        j.log_night(date(2026, 3, 2), "none", at=berlin(3, 8), source="checkin")
        j.log_cramp(when=berlin(3, 1), at=berlin(3, 9), severity=2)
        #   ^ night 2: a cramp logged after the "none": a cramp night (1, severity 2)
        j.log_cramp(when=berlin(14, 2), at=berlin(14, 2, 5), severity=4)
        j.log_cramp(when=berlin(14, 4), at=berlin(14, 4, 5), severity=2)
        #   ^ night 13: two cramps, the worst 4
        j.log_night(date(2026, 3, 14), "several", at=berlin(15, 8), source="checkin")
        j.log_night(date(2026, 3, 15), "one", at=berlin(16, 8), source="checkin")
        for night in range(16, 21):
            j.log_cramp(when=berlin(night + 1, 3), at=berlin(night + 1, 7), severity=3)
        j.log_cramp(when=datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN), at=berlin(29, 8),
                    severity=5)  # 03:30 CEST = 01:30 UTC: night 28, across the change
        j.log_night(date(2026, 3, 30), "one", at=berlin(31, 8), source="checkin")
        j.log_night(date(2026, 3, 31), "one", at=datetime(2026, 4, 1, 8, tzinfo=BERLIN),
                    source="checkin")  # night 31 ends after the period: not counted
        # Nights: cramp 2, 13-20, 28, 30 (11); quiet 1, 3-8, 21, 25, 29 (10); unknown
        # 9-12, 22-24, 26, 27 (9); night 31 not over within the period.
        # stretch, known nights only: done 1-8, 25, 29, 30 (11, cramp on 2 and 30);
        # due and not done 13-21 (9, cramp on 13-20: 8); 26 and 27 not done but unknown;
        # 28 held: not due. Unknown: 9-12, 22-24, 26, 27 (9).
    return folder


def build_march(folder: Path):
    ctx = Context(resolve_paths(routines=str(folder)))
    span = times.Period(date(2026, 3, 1), date(2026, 3, 31))
    return report_commands.collect(ctx, span, datetime(2026, 4, 10, 12, tzinfo=UTC))


def test_the_model_of_a_known_month(march: Path) -> None:
    model, problems = build_march(march)
    assert problems == []
    assert (model.first, model.last, len(model.days)) == (date(2026, 3, 1),
                                                          date(2026, 3, 31), 31)
    assert [m.label for m in model.months] == ["March 2026"]
    # day routines first, the evening ones last (above the nights); "off" left out
    assert [(r.id, r.evening) for r in model.routines] == [("breaks", False),
                                                           ("stretch", True)]
    breaks, stretch = model.routines
    by_day = {c.day.day: c for c in breaks.cells}
    assert {d: by_day[d].status for d in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 28, 29, 30, 31)} == {
        1: "none", 2: "done", 3: "skipped", 4: "shown", 5: "missed", 6: "held", 7: "none",
        9: "shown", 10: "shown", 11: "none", 28: "done", 29: "done", 30: "shown",
        31: "none"}
    assert by_day[2].title == "Mon 2 Mar 2026: done (2 due, 2 shown, 1 done, 1 held back)"
    assert by_day[9].title == "Mon 9 Mar 2026: shown, not answered (1 due, 1 shown, " \
                              "1 held back)"
    assert by_day[10].title == "Tue 10 Mar 2026: shown, not answered (1 due, 1 shown)"
    assert by_day[29].title == "Sun 29 Mar 2026: done (2 due, 2 shown, 1 done)"
    assert by_day[7].title == "Sat 7 Mar 2026: not due"
    statuses = [c.status for c in stretch.cells]
    assert statuses == ["done"] * 12 + ["shown"] * 12 + ["done", "skipped", "missed",
                                                         "held", "done", "done", "done"]

    nights = {n.night.day: n for n in model.nights}
    assert [d for d, n in nights.items() if n.status == "cramp"] == [2, *range(13, 21), 28, 30]
    assert [d for d, n in nights.items() if n.status == "quiet"] == [1, *range(3, 9), 21, 25,
                                                                     29]
    assert [d for d, n in nights.items() if n.status == "unknown"] == [
        9, 10, 11, 12, 22, 23, 24, 26, 27]
    assert nights[31].status == "ahead"
    assert (nights[2].cramps, nights[2].severity) == ("1", 2)
    assert (nights[13].cramps, nights[13].severity) == ("2", 4)
    assert nights[13].title == "Night of Fri 13 Mar 2026: cramp (2, worst severity 4 of 5)"
    assert (nights[14].cramps, nights[14].severity) == ("several", None)
    assert (nights[15].cramps, nights[28].severity) == ("1", 5)
    c = model.night_counts
    assert (c.cramp, c.no_cramp, c.unknown, model.nights_ahead) == (11, 10, 9, 1)

    (comparison,) = model.comparisons
    r = comparison.relation
    assert comparison.title == TITLE
    assert (r.nights_done, r.cramp_nights_done, r.nights_not_done, r.cramp_nights_not_done,
            r.nights_unknown) == (11, 2, 9, 8, 9)
    assert r.verdict == "fewer cramps on nights it was done (2/11 vs 8/9)"

    practice = {p.id: p for p in model.practices}
    assert set(practice) == {"breaks", "stretch"}
    (step,) = practice["stretch"].steps
    assert step.id == "stretch-before-bed" and step.quote and step.source.endswith(".txt")
    assert step.evidence is not None and step.evidence.studies
    assert any(s.year == 2012 for s in step.evidence.studies)


def test_a_report_and_stats_agree_over_the_same_days(march: Path, run) -> None:
    model, _ = build_march(march)
    # `stats` at the last instant of 31 March counts the same 31 days
    with freeze_time(datetime(2026, 3, 31, 21, 59, 59, 999999)):  # 23:59:59.999999 CEST
        code, out, err = run("--routines", march, "stats", "--days", "31", "--json")
    assert code == 0, err
    data = json.loads(out)
    (relation,) = [x for x in data["evening_routines_and_cramps"] if x["routine"] == "stretch"]
    assert relation == asdict(model.comparisons[0].relation)
    assert data["nights"] == asdict(model.night_counts)


@freeze_time("2026-04-10 12:00:00", tz_offset=0)
def test_the_page_says_it_all_and_loads_nothing(march: Path, run, tmp_path: Path) -> None:
    page = tmp_path / "march.html"
    code, out, err = run("--routines", march, "report", *MARCH, "--out", page, "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "file": str(page), "format": "html", "first": "2026-03-01", "last": "2026-03-31",
        "days": 31, "zone": "Europe/Berlin", "routines": 2,
        "nights": {"cramp": 11, "no_cramp": 10, "unknown": 9, "not_over": 1}}
    html = page.read_text(encoding="utf-8")
    assert oct(page.stat().st_mode & 0o777) == "0o600"  # health data
    # Nothing leaves the page: a policy that forbids every fetch, and no address at all.
    assert ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            'style-src \'unsafe-inline\'; img-src data:">') in html
    assert not re.search(r"(src|href)\s*=|url\(|@import|<script|<link|<img", html, re.I)
    assert not re.search(r"https?:", html.replace("doi:", ""), re.I)
    # the user's title is shown, never obeyed
    assert "Calf &lt;b&gt;stretch&lt;/b&gt; &amp; more" in html and "<b>stretch" not in html
    assert ('<td class="d-done" title="Mon 2 Mar 2026: done (2 due, 2 shown, 1 done, '
            '1 held back)">✓</td>') in html
    assert '<td class="d-missed" title="Thu 5 Mar 2026: missed (1 due, 1 missed)">✗</td>' in html
    assert ('<td class="n-cramp" title="Night of Fri 13 Mar 2026: cramp (2, worst severity '
            '4 of 5)">●<sub>4</sub></td>') in html
    assert '<td class="n-unknown" title="Night of Mon 9 Mar 2026: unknown (nothing logged)">?' \
        in html
    assert "On your nights: fewer cramps on nights it was done (2/11 vs 8/9)." in html
    assert "association, not a cause" in html
    assert "Hallegraeff" in html  # the evidence, with its citation
    assert "@media print" in html and "print-color-adjust: exact" in html
    assert "@media screen and (prefers-color-scheme: dark)" in html
    assert html.count('<div class="month">') == 1
    for look in legend.DAY + legend.NIGHT:
        assert f"<b>{look.label}</b>" in html or f"<b>night: {look.label}</b>" in html


def test_each_colour_pair_reads_in_both_themes() -> None:
    for look in legend.DAY + legend.NIGHT:
        for theme in ("light", "dark"):
            background, symbol = getattr(look, theme)
            assert legend.contrast(background, symbol) >= 4.5, (look.key, theme)
    # the dark theme's cells stand apart from each other, not only from the page
    dark = {look.dark[0] for look in legend.DAY[:5]}
    assert len(dark) == 5


def test_a_step_without_evidence_says_so(march: Path) -> None:
    from scheduler.journal import stats
    from scheduler.report import model as report_model

    ctx = Context(resolve_paths(routines=str(march)))
    w = stats.window(now=datetime(2026, 3, 2, tzinfo=UTC), zone=BERLIN, days=1)
    facts = report_model.Facts(stats.Tally(w, (), (), ()), [], [])

    class NoEvidence:
        def for_step(self, step_id: str) -> None:
            return None

    built = report_model.build(w, ctx.load_routines().routines.values(), ctx.catalog,
                               NoEvidence(), facts)
    from scheduler.report.html import render

    page = render(built, made=datetime(2026, 3, 2, tzinfo=BERLIN), version="test")
    assert page.count(NO_EVIDENCE) == 2  # one step each for the two enabled routines


def test_the_real_program_writes_the_png(march: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    picture = tmp_path / "march.png"
    result = cli("--routines", str(march), "report", *MARCH, "--out", str(picture))
    assert result.returncode == 0, result.stderr
    assert f"wrote {picture} (the pictures, PNG)" in result.stdout
    pixels = imread(picture)[:, :, :3]
    height, width = pixels.shape[:2]
    assert width > 1000 and height > 500  # one month, two routines, one comparison
    assert pixels.std() > 0.1  # not blank
    for look in (*legend.DAY[:5], legend.NIGHT_LOOK["cramp"], legend.NIGHT_LOOK["quiet"]):
        assert _has_colour(pixels, look.light[0]), look.key


def test_bad_dates_and_ranges_are_refused_with_what_to_write(march: Path, tmp_path: Path,
                                                              run) -> None:
    cases = [
        (("--from", "2026-02-30"), "--from: "),
        (("--from", "2026-03-10", "--to", "2026-03-01"), "--from 2026-03-10 is after --to"),
        (("--days", "0"), "--days"),
        (("--days", "5", "--from", "2026-03-01"), "--days and --from"),
        (("--to", "2999-01-01"), "--to 2999-01-01 is after today"),
        (("--out", str(tmp_path / "march.pdf")), "ends in neither .html"),
        (("--out", str(tmp_path / "no" / "such" / "x.html")), "--out: no folder"),
    ]
    for args, message in cases:
        code, out, err = run("--routines", march, "report", *args)
        assert code == 1, args
        assert message in err, (args, err)
    assert list(tmp_path.glob("*.html")) == []
    # the real program says the same
    result = cli("report", "--from", "2026-13-01")
    assert result.returncode == 1 and result.stderr.startswith("--from: ")
    assert "2026-13-01" in result.stderr


@freeze_time("2026-04-10 12:00:00", tz_offset=0)
def test_the_default_file_is_never_one_crampguard_did_not_write(
        march: Path, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    page = here / "crampguard-report-2026-04-10.html"
    code, out, err = run("--routines", march, "report")
    assert code == 0, err
    assert out.startswith(f"wrote {page} (one page, HTML)")
    first = page.read_text(encoding="utf-8")
    assert "Thu 12 Mar 2026 to Fri 10 Apr 2026" in first  # 30 days ending today

    code, _, err = run("--routines", march, "report", "--days", "7")
    assert code == 0, err  # its own page from before: replaced
    assert page.read_text(encoding="utf-8") != first

    page.write_text("my notes for the doctor\n")
    code, _, err = run("--routines", march, "report")
    assert code == 1
    assert f"{page} exists and was not written by crampguard" in err and "--out" in err
    assert page.read_text() == "my notes for the doctor\n"
    assert [p.name for p in here.iterdir()] == [page.name]  # no temporary file left

    code, _, err = run("--routines", march, "report", "--out", page)
    assert code == 0, err  # named by the user: replaced
    assert "crampguard report" in page.read_text(encoding="utf-8")


def test_only_the_report_loads_the_drawing_libraries(march: Path, tmp_path: Path) -> None:
    code = ("import sys\nfrom scheduler.cli.main import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('jinja2', 'matplotlib') if m in sys.modules))\n")
    argv = [sys.executable, "-c", code]
    for other in (["--help"], ["report", "--help"], ["stats", "--json"]):
        result = subprocess.run([*argv, *other], capture_output=True, text=True)
        assert result.stdout.strip().splitlines()[-1] == "[]", other
    page = subprocess.run([*argv, "--routines", str(march), "report", *MARCH, "--out",
                           str(tmp_path / "a.html")], capture_output=True, text=True)
    assert page.stdout.strip().splitlines()[-1] == "['jinja2']", page.stderr
    png = subprocess.run([*argv, "--routines", str(march), "report", *MARCH, "--out",
                          str(tmp_path / "a.png")], capture_output=True, text=True)
    assert png.stdout.strip().splitlines()[-1] == "['matplotlib']", png.stderr


# -- the page in a real browser ------------------------------------------------------------

#: Chromium's own background requests (updates, account checks) start despite these flags;
#: they carry no page origin, and the net log check below tells them apart.
BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,2000")


def chromium(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={profile}", *extra,
                           page.as_uri()], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"})


def page_requests(net_log: Path) -> list[str]:
    """The URLs a page asked for, from Chromium's net log: requests with a document as
    their initiator (the browser's own have "not an origin")."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [e["params"]["url"] for e in log["events"]
            if e["type"] == start_job and "url" in e.get("params", {})
            and e["params"].get("initiator") != "not an origin"]


@pytest.fixture
def page(march: Path, tmp_path: Path) -> Path:
    page = tmp_path / "march.html"
    result = cli("--routines", str(march), "report", *MARCH, "--out", str(page))
    assert result.returncode == 0, result.stderr
    return page


@pytest.mark.slow
@needs_chromium
def test_the_page_in_chromium_light_and_dark(page: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    shots = {}
    for theme, extra in (("light", ()), ("dark", ("--force-dark-mode",))):
        shot = tmp_path / f"{theme}.png"
        result = chromium(page, tmp_path, f"--screenshot={shot}", *extra)
        assert shot.exists(), result.stderr
        shots[theme] = imread(shot)[:, :, :3]
        if os.environ.get("KEEP_REPORT_SHOTS"):  # to look at them
            shutil.copy(shot, Path(os.environ["KEEP_REPORT_SHOTS"]) / shot.name)
    for theme, pixels in shots.items():
        assert pixels.shape[:2] == (2000, 1280)
        assert pixels.std() > 0.1, theme  # not blank
        for look in (*legend.DAY[:5], legend.NIGHT_LOOK["cramp"], legend.NIGHT_LOOK["quiet"]):
            assert _has_colour(pixels, getattr(look, theme)[0]), (theme, look.key)
    assert shots["light"][5, 5].mean() > 0.9  # white page
    assert shots["dark"][5, 5].mean() < 0.2  # dark page


@pytest.mark.slow
@needs_chromium
def test_the_page_prints_and_asks_for_nothing(page: Path, tmp_path: Path) -> None:
    pdf, net_log = tmp_path / "march.pdf", tmp_path / "net.json"
    result = chromium(page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                      f"--log-net-log={net_log}")
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), result.stderr
    assert page_requests(net_log) == []
    if shutil.which("pdftoppm"):
        from matplotlib.image import imread

        subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf),
                        str(tmp_path / "printed")], check=True)
        (first,) = tmp_path.glob("printed*.png")
        pixels = imread(first)[:, :, :3]
        assert pixels.std() > 0.1
        assert pixels[3, 3].mean() > 0.9  # white paper, also where the screen is dark

    # The check above can fail: the same browser on a page that does fetch finds it.
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<!DOCTYPE html><p>x<img src="http://127.0.0.1:9/x.png">')
    chromium(leaky, tmp_path, f"--screenshot={tmp_path / 'leaky.png'}",
             f"--log-net-log={tmp_path / 'leaky.json'}")
    assert page_requests(tmp_path / "leaky.json") == ["http://127.0.0.1:9/x.png"]


def _has_colour(pixels, colour: str, tolerance: float = 2.5 / 255) -> bool:
    """Whether some pixels are ``#rrggbb`` (a swatch or a cell, not a stray edge pixel)."""
    import numpy as np

    wanted = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    close = np.all(np.abs(pixels - wanted) <= tolerance, axis=-1)
    return int(close.sum()) >= 40


# -- the installed program -------------------------------------------------------------


@pytest.mark.slow
def test_the_installed_program_carries_its_template(crampguard, wheel: Path,  # noqa: F811
                                                     march: Path, tmp_path: Path) -> None:
    import zipfile

    assert "scheduler/report/templates/report.html.j2" in zipfile.ZipFile(wheel).namelist()
    page = tmp_path / "installed.html"
    result = crampguard("--routines", str(march), "report", *MARCH, "--out", str(page))
    assert result.returncode == 0, result.stderr
    assert "On your nights: fewer cramps on nights it was done (2/11 vs 8/9)." in \
        page.read_text(encoding="utf-8")
