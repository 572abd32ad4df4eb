"""The message catalog's sources, read the way the program looks them up: every ``_()``,
``N_()``, ``ngettext()`` and ``Nn_()`` with literal text in the package (an AST walk), the
same calls in the report's template, the shipped routines' titles and messages (under
the context "routine", as ``i18n.routine_text`` asks for them), and the seeds the report
shows (the routine steps' summaries, what studies found: the context "seeds"). xgettext
reads neither TOML nor Jinja, hence this one extractor, used by the tests and by
translators:

    .venv/bin/python -m tests.support.catalog      # writes scheduler/locale/crampguard.pot

Also a small reader of .po files (``read_po``) for the tests' comparisons.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "scheduler"
LOCALE = PACKAGE / "locale"
POT = LOCALE / "crampguard.pot"
ROUTINES = ROOT / "routines"
#: The calls that put a text in the catalog: one text, or a singular and a plural.
SINGLE = {"_", "N_"}
PLURAL = {"ngettext", "Nn_"}
_TEMPLATE_CALL = re.compile(
    r'\b(?:_|ngettext)\(\s*"((?:[^"\\]|\\.)*)"(?:\s*,\s*"((?:[^"\\]|\\.)*)")?')


@dataclass
class Message:
    id: str
    plural: str | None = None
    context: str | None = None
    #: "path:line" of each place the text is used
    places: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str | None, str]:
        return self.context, self.id


def extract() -> dict[tuple[str | None, str], Message]:
    found: dict[tuple[str | None, str], Message] = {}

    def add(text: str, plural: str | None, context: str | None, place: str) -> None:
        message = found.setdefault((context, text), Message(text, plural, context))
        message.plural = message.plural or plural
        message.places.append(place)

    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            texts = [a.value for a in node.args[:2]
                     if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id in SINGLE and texts and _literal(node.args[0]):
                add(texts[0], None, None, f"{where}:{node.lineno}")
            elif node.func.id in PLURAL and len(texts) == 2 and _literal(node.args[0]):
                add(texts[0], texts[1], None, f"{where}:{node.lineno}")
    for path in sorted((PACKAGE / "report" / "templates").glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        for m in _TEMPLATE_CALL.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            add(_unescape(m[1]), _unescape(m[2]) if m[2] else None, None,
                f"{path.relative_to(ROOT)}:{line}")
    for path in sorted(ROUTINES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for key in ("title", "message"):
            add(data[key], None, "routine", f"{path.relative_to(ROOT)}:{key}")
    seeds = ROOT / "seeds"
    for step in tomllib.loads((seeds / "catalog.toml").read_text(encoding="utf-8"))["step"]:
        if step["kind"] == "routine":  # the report shows the steps routines put into practice
            add(step["summary"], None, "seeds", f"seeds/catalog.toml:{step['id']}")
    evidence = tomllib.loads((seeds / "evidence.toml").read_text(encoding="utf-8"))
    for study in evidence["study"]:
        for key in ("finding", "design"):
            add(study[key], None, "seeds", f"seeds/evidence.toml:{study['id']}")
    for step in evidence["step"]:
        add(step["summary"], None, "seeds", f"seeds/evidence.toml:{step['id']}")
    return found


def _literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)


def _unescape(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


# --- .po and .pot text ---------------------------------------------------------------------


def _quote(text: str) -> str:
    """A .po string: one line, or one line per line of the text after an empty one."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    lines = body.split("\n")
    if len(lines) == 1:
        return f'"{body}"'
    parts = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return '""\n' + "\n".join(f'"{p}"' for p in parts)


_BRACE = re.compile(r"\{[a-z_][a-z_0-9]*(![rsa])?(:[^{}]*)?\}")
_PERCENT = re.compile(r"%(\([a-z_]+\))?[srd]")


def _formats(text: str) -> list[str]:
    """The format a text is filled in with, for msgfmt --check to compare the
    translation's placeholders with: str.format's, or argparse's %."""
    if _BRACE.search(text) and "{" not in _BRACE.sub("", text) and "}" not in _BRACE.sub(
            "", text):
        return ["python-brace-format"]
    if _PERCENT.search(text):
        return ["python-format"]
    return []


def pot_text(messages: dict[tuple[str | None, str], Message]) -> str:
    out = ['# Messages of crampguard. English is the message id.',
           '# Written by `python -m tests.support.catalog`; do not edit by hand.',
           'msgid ""', 'msgstr ""',
           '"Project-Id-Version: crampguard\\n"',
           '"MIME-Version: 1.0\\n"',
           '"Content-Type: text/plain; charset=UTF-8\\n"',
           '"Content-Transfer-Encoding: 8bit\\n"', '']
    for m in sorted(messages.values(), key=lambda m: (m.places[0], m.id)):
        out += [f"#: {place}" for place in m.places]
        out += [f"#, {flag}" for flag in _formats(m.id)]
        if m.context:
            out.append(f"msgctxt {_quote(m.context)}")
        out.append(f"msgid {_quote(m.id)}")
        if m.plural is not None:
            out += [f"msgid_plural {_quote(m.plural)}", 'msgstr[0] ""', 'msgstr[1] ""']
        else:
            out.append('msgstr ""')
        out.append("")
    return "\n".join(out)


@dataclass
class Entry:
    id: str
    context: str | None = None
    plural: str | None = None
    strings: list[str] = field(default_factory=list)
    fuzzy: bool = False
    obsolete: bool = False


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (the header, msgid "", left out)."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    flags: list[str] = []
    obsolete = False
    last: str | None = None

    def finish() -> None:
        nonlocal fields, flags, obsolete
        if "msgid" in fields and fields["msgid"]:
            strings = [fields[k] for k in sorted(fields) if k.startswith("msgstr")]
            entries.append(Entry(fields["msgid"], fields.get("msgctxt"),
                                 fields.get("msgid_plural"), strings, "fuzzy" in flags,
                                 obsolete))
        fields, flags, obsolete = {}, [], False

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if line.startswith("#~"):
            obsolete, line = True, line[2:].strip()
            if not line:
                continue
        if not line:
            finish()
            last = None
            continue
        if line.startswith("#,"):
            flags += [f.strip() for f in line[2:].split(",")]
            continue
        if line.startswith("#"):
            continue
        m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line)
        if m:
            if m[1] in ("msgctxt", "msgid") and "msgstr" in fields or (
                    m[1] == "msgctxt" and "msgid" in fields):
                finish()
            last = m[1]
            fields[last] = _po_string(m[2])
        elif line.startswith('"') and last:
            fields[last] += _po_string(line)
    return entries


def _po_string(quoted: str) -> str:
    body = quoted[1:-1]
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), body)


def main() -> int:
    POT.parent.mkdir(parents=True, exist_ok=True)
    POT.write_text(pot_text(extract()), encoding="utf-8")
    print(f"wrote {POT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
