"""The shipped data: routines/, seeds/catalog.toml, the source texts and the config template.

Every routine file validates exactly as `crampguard check routines/*.toml` would check it and
puts at least one documented step into practice (but for the morning check-in, which
records the night rather than reminding of a step); the catalog quotes the sources
verbatim.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from scheduler.config.catalog import Catalog, Step, load_catalog
from scheduler.config.loader import load_file, routine_files
from scheduler.config.routine import FollowUp, Repeat, Routine, night_answer
from scheduler.config.settings import Settings, load_settings
from tests.support.fixtures import ROOT, SEEDS, SHIPPED_ROUTINES

SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
TEMPLATE = ROOT / "scheduler" / "templates" / "config.toml"
SOURCE_TEXTS = sorted(p.name for p in SEEDS.glob("*.txt"))
ROUTINE_FILES = routine_files(SHIPPED_ROUTINES)
CATALOG_STEPS = load_catalog(SEEDS / "catalog.toml").step

#: The routines the design card names; each must be on out of the box.
DESIGN_CARD_ROUTINES = {
    "foot-soak": "soak-feet-before-bed",                  # warm foot soak before bed
    "calf-stretch": "stretch-before-bed",                 # calf stretches before bed
    "warm-calves-at-night": "keep-calves-warm-when-sleeping",  # calves warm at night
    "sitting-break": "leg-exercise-breaks-when-sitting",  # breaks from long sitting
}


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog(SEEDS / "catalog.toml")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The defaults: no config.toml (the zone comes from the isolated environment)."""
    return load_settings(tmp_path / "no-config.toml")


@pytest.fixture
def shipped(settings: Settings, catalog: Catalog) -> dict[str, Routine]:
    routines = {}
    for path in ROUTINE_FILES:
        routine = load_file(path, settings, catalog)
        routines[routine.id] = routine
    return routines


def test_the_shipped_folders_are_not_empty() -> None:
    assert len(ROUTINE_FILES) >= 4
    assert len(SOURCE_TEXTS) == 2


def is_check_in(routine: Routine) -> bool:
    """Its buttons answer about last night: it records, it does not remind of a step."""
    return any(night_answer(a.key) for a in routine.notify.actions)


@pytest.mark.parametrize("path", ROUTINE_FILES, ids=lambda p: p.name)
def test_routine_file_validates_and_cites_a_routine_step(
        path: Path, settings: Settings, catalog: Catalog) -> None:
    routine = load_file(path, settings, catalog)  # raises CrampguardError when invalid
    assert routine.id == path.stem, "a shipped file is named after its id"
    assert routine.seed or is_check_in(routine), f"{path.name} cites no catalog step"
    for step_id in routine.seed:
        step = catalog.get(step_id)
        assert step is not None, f"{path.name}: {step_id!r} is not in the catalog"
        assert step.kind == "routine"


def test_crampguard_check_accepts_every_shipped_file(run) -> None:
    code, out, err = run("check", *ROUTINE_FILES)
    assert (code, err) == (0, "")
    assert out.startswith(f"ok: {len(ROUTINE_FILES)} file(s), {len(ROUTINE_FILES)} routine(s)")


def test_ids_are_unique(shipped: dict[str, Routine]) -> None:
    assert len(shipped) == len(ROUTINE_FILES)


@pytest.mark.parametrize("routine_id", sorted(DESIGN_CARD_ROUTINES))
def test_design_card_routines_are_enabled(shipped: dict[str, Routine], routine_id: str) -> None:
    routine = shipped[routine_id]
    assert routine.enabled
    assert DESIGN_CARD_ROUTINES[routine_id] in routine.seed


def test_design_card_routines_are_timed_as_the_card_says(shipped: dict[str, Routine]) -> None:
    """Before bed means before the bedtime anchor; the sitting break runs in work hours."""
    for routine_id in ("foot-soak", "calf-stretch"):
        (at,) = shipped[routine_id].schedule.at
        assert at.anchor == "bedtime" and at.offset.total_seconds() < 0, routine_id
    (at,) = shipped["warm-calves-at-night"].schedule.at
    assert at.anchor == "bedtime"
    assert shipped["sitting-break"].schedule.between == "work"


def test_the_morning_check_in_asks_about_last_night(shipped: dict[str, Routine]) -> None:
    checkin = shipped["morning-checkin"]
    assert checkin.enabled and is_check_in(checkin) and checkin.seed == ()
    (at,) = checkin.schedule.at
    assert (at.anchor, at.offset) == ("wake", timedelta(minutes=15))
    assert checkin.schedule.catch_up == timedelta(hours=4)
    assert checkin.title == "Any leg cramps last night?"
    assert [(a.key, a.label) for a in checkin.notify.actions] == [
        ("cramps:none", "No cramps"), ("cramps:one", "One cramp"),
        ("cramps:several", "Several")]
    # where buttons are not shown, the message names the commands
    assert "crampguard log-cramp --none" in checkin.message
    assert "crampguard log-cramp --when" in checkin.message


def test_follow_ups_and_repeats_of_the_shipped_routines(shipped: dict[str, Routine]) -> None:
    water = shipped["water-and-salt"]
    assert water.enabled and not water.schedule.on_clock
    assert water.schedule.after == FollowUp("workout", "event", timedelta(hours=1))
    stretch = shipped["calf-stretch"].schedule
    assert stretch.at is not None  # keeps its clock time on days the soak is not done
    assert stretch.after == FollowUp("foot-soak", "done", timedelta(minutes=20))
    assert shipped["warm-up"].schedule.after is None  # its Done counts as the workout
    evening = {"foot-soak", "calf-stretch", "warm-calves-at-night"}
    for routine_id, routine in shipped.items():
        expected = Repeat(every=timedelta(minutes=10), times=3) if routine_id in evening \
            else None
        assert routine.notify.repeat == expected, routine_id


def test_catalog_ids_are_unique(catalog: Catalog) -> None:
    ids = [s.id for s in catalog.step]
    assert len(ids) == len(set(ids))


def test_every_routine_step_is_put_into_practice_or_is_advice(
        catalog: Catalog, shipped: dict[str, Routine]) -> None:
    cited = {step for r in shipped.values() for step in r.seed}
    assert set(catalog.routine_ids) <= cited, "a routine step no shipped routine uses"


@pytest.mark.parametrize("step", CATALOG_STEPS, ids=lambda s: s.id)
def test_catalog_quote_is_verbatim_in_its_source(step: Step) -> None:
    assert step.source in SOURCE_TEXTS, f"{step.id}: unknown source {step.source!r}"
    text = (SEEDS / step.source).read_text(encoding="utf-8")
    assert step.quote in text, f"{step.id}: quote not found verbatim in {step.source}"


def test_advice_only_steps_have_a_reason_and_no_routine_cites_them(
        catalog: Catalog, shipped: dict[str, Routine]) -> None:
    advice = [s for s in catalog.step if s.kind == "advice-only"]
    assert advice
    for step in advice:
        assert step.reason.strip(), step.id
    cited = {step for r in shipped.values() for step in r.seed}
    assert not cited & {s.id for s in advice}


@pytest.mark.parametrize("step_id", ["vitamin-e-unproven", "watch-for-varicose-veins"])
def test_vitamin_e_and_varicose_vein_doctor_are_advice_only(
        catalog: Catalog, step_id: str) -> None:
    step = catalog.get(step_id)
    assert step is not None
    assert step.kind == "advice-only"


def test_no_step_about_vitamin_e_is_a_routine(catalog: Catalog) -> None:
    about = [s for s in catalog.step if re.search(r"vitamin e\b", s.summary + s.quote, re.I)]
    assert [s.id for s in about] == ["vitamin-e-unproven"]
    assert all(s.kind == "advice-only" for s in about)


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason=f"{SHARED_SEEDS} is absent")
@pytest.mark.parametrize("name", sorted(p.name for p in SHARED_SEEDS.glob("*.txt"))
                         if SHARED_SEEDS.is_dir() else [])
def test_source_texts_are_the_given_ones_byte_for_byte(name: str) -> None:
    assert (SEEDS / name).read_bytes() == (SHARED_SEEDS / name).read_bytes()


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason=f"{SHARED_SEEDS} is absent")
def test_every_given_source_text_is_shipped() -> None:
    assert sorted(p.name for p in SHARED_SEEDS.glob("*.txt")) == SOURCE_TEXTS


# --- the config.toml template that `crampguard init` writes -----------------------------

_COMMENTED_SETTING = re.compile(r"^# ([a-z_]+ = .+)$")


def test_config_template_loads_as_settings() -> None:
    settings = load_settings(TEMPLATE)
    assert settings == load_settings(TEMPLATE.parent / "absent.toml")


def test_config_template_with_every_example_uncommented_equals_the_defaults(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = TEMPLATE.read_text(encoding="utf-8").splitlines()
    uncommented = [_COMMENTED_SETTING.sub(r"\1", line) for line in lines]
    assert sum(a != b for a, b in zip(lines, uncommented, strict=True)) >= 7, \
        "the template lost its commented examples"
    config = tmp_path / "config.toml"
    config.write_text("\n".join(uncommented) + "\n", encoding="utf-8")

    monkeypatch.delenv("CRAMPGUARD_TIMEZONE")
    loaded = load_settings(config)
    defaults = load_settings(tmp_path / "absent.toml")
    # The one example that is not the default: the default zone is the system's (None),
    # and the template shows how to pin one.
    assert defaults.timezone is None
    assert loaded.timezone == "Europe/Berlin"
    assert loaded.model_copy(update={"timezone": None}) == defaults


# --- seeds/evidence.toml: what studies found, for the report --------------------------------


def test_the_evidence_covers_every_routine_step_and_names_only_catalog_steps(
        catalog: Catalog) -> None:
    from scheduler.config.evidence import load_evidence

    evidence = load_evidence(SEEDS / "evidence.toml")
    assert evidence.problems(catalog) == []
    for step in catalog.routine_ids:
        entry = evidence.for_step(step)
        assert entry is not None and entry.summary.strip()


def test_every_study_is_cited_in_full_and_used() -> None:
    from scheduler.config.evidence import load_evidence

    evidence = load_evidence(SEEDS / "evidence.toml")
    used = {s for entry in evidence.step for s in entry.studies}
    assert used == {s.id for s in evidence.study}, "a study no step points at"
    for study in evidence.study:
        assert str(study.year) in study.citation, study.id
        # a reader can find it: a DOI, or journal volume and pages
        assert "doi:10." in study.citation or re.search(r"\d+\(\d+\):\d+", study.citation)


def test_a_step_without_a_study_says_so_rather_than_claiming() -> None:
    """Honesty rule: an entry with no study must say that nothing tested it."""
    from scheduler.config.evidence import load_evidence

    evidence = load_evidence(SEEDS / "evidence.toml")
    for entry in evidence.step:
        if not entry.studies:
            assert "no trial" in entry.summary.lower(), entry.id


def test_a_broken_evidence_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    from scheduler.config.evidence import load_evidence
    from scheduler.errors import CrampguardError

    path = tmp_path / "evidence.toml"
    path.write_text('schema_version = 1\n\n[[step]]\nid = "x"\nsummary = "s"\n'
                    'studies = ["nowhere"]\n', encoding="utf-8")
    with pytest.raises(CrampguardError, match=r"evidence\.toml.*nowhere"):
        load_evidence(path)
