"""The start-up entries, as text: a systemd user unit, an XDG autostart desktop file, a
macOS LaunchAgent and a Windows Startup-folder script, each made from the command line that
runs the daemon, and read back into that command line.

Pure: nothing here touches a file or the clock. Each format quotes the command its own way,
and each ``*_command`` function undoes exactly what its writer did, so ``status`` can tell
which program an entry starts, and whether that program still exists.
"""

from __future__ import annotations

import plistlib
import re
import subprocess
from collections.abc import Sequence

#: The line that marks a file as crampguard's: install rewrites and uninstall removes only
#: files that carry it (or, for a file without it, ``install --force``).
MARKER = "Written by crampguard service install"
_MARKER_LINE = f"{MARKER}; `crampguard service uninstall` removes it."
DESCRIPTION = "crampguard leg-cramp prevention reminders"
#: The LaunchAgent's label: reverse-DNS by convention; "local." for one without a domain.
LAUNCHD_LABEL = "local.crampguard"
UNIT_NAME = "crampguard.service"
#: The unit's own target: started once the desktop session is up (its environment,
#: DISPLAY and the session bus, imported into the user manager) and stopped with it.
SESSION_TARGET = "graphical-session.target"


def is_ours(text: str) -> bool:
    return MARKER in text


def require_one_line(command: Sequence[str]) -> None:
    """Not every format below can carry a line break or another control character (a tab
    aside) inside an argument; no real path holds one."""
    for arg in command:
        if re.search(r"[\x00-\x08\x0a-\x1f\x7f]", arg):
            raise ValueError(f"a line break or another control character in {arg!r} cannot "
                             f"go into a start-up entry")


# --- systemd user unit ---------------------------------------------------------------------


def systemd_unit(command: Sequence[str]) -> str:
    require_one_line(command)
    program = command[0]
    if re.search(r"[\"'\\\x00-\x1f\x7f]", program):
        # systemd refuses them there ("Executable name contains special characters")
        raise ValueError(f"systemd cannot run a program whose path holds a quote, a "
                         f"backslash or a control character: {program}; install crampguard "
                         f"at a plainer path")
    return f"""\
# {_MARKER_LINE}
[Unit]
Description={DESCRIPTION}
PartOf={SESSION_TARGET}
After={SESSION_TARGET}

[Service]
# The daemon says READY=1 once every routine is scheduled, RELOADING=1 while it re-reads
# the files, STOPPING=1 on its way out.
Type=notify
ExecStart={" ".join(_unit_word(arg, n == 0) for n, arg in enumerate(command))}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure

[Install]
WantedBy={SESSION_TARGET}
"""


def _unit_word(arg: str, program: bool = False) -> str:
    # "%" starts a specifier (%h) anywhere on the line, quoted or not, and "$" a variable
    # ($HOME) in the arguments (not in the program's path); inside double quotes systemd
    # takes C escapes, so backslash and quote too.
    word = arg.replace("%", "%%")
    if not program:
        word = word.replace("$", "$$")
    if word and not re.search(r"[\s\"'\\;]", word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_command(text: str, home: str = "") -> tuple[str, ...] | None:
    """ExecStart of a unit, split into its words; ``%h`` becomes ``home`` (a unit written
    by hand often says ``%h/...``). None when there is no ExecStart."""
    value = _key(text, "ExecStart")
    if value is None:
        return None
    words = _split(value)
    if words:
        # Prefixes that change how systemd runs the command ("-" ignore failure, ...).
        words[0] = words[0].lstrip("-@:+!")
    return tuple(_unit_specifiers(w, home, n == 0) for n, w in enumerate(words))


def _unit_specifiers(word: str, home: str, program: bool) -> str:
    word = re.sub(r"%(.)", lambda m: {"%": "%", "h": home}.get(m[1], m[0]), word)
    return word if program else word.replace("$$", "$")


# --- XDG autostart desktop file ------------------------------------------------------------

#: The Exec key's reserved characters: an argument holding one must be quoted.
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def desktop_entry(command: Sequence[str]) -> str:
    require_one_line(command)
    return f"""\
# {_MARKER_LINE}
[Desktop Entry]
Type=Application
Name=crampguard
Comment={DESCRIPTION}
Exec={" ".join(_exec_word(arg) for arg in command)}
Terminal=false
NoDisplay=true
X-GNOME-Autostart-enabled=true
"""


def _exec_word(arg: str) -> str:
    # Two layers (the Desktop Entry spec, "The Exec key"): the argument is quoted for the
    # command line, then the whole value escaped as a string, which doubles each backslash.
    word = arg.replace("%", "%%")
    if word and not _EXEC_RESERVED & set(word):
        return word
    quoted = '"' + re.sub(r'(["`$\\])', r"\\\1", word) + '"'
    return quoted.replace("\\", "\\\\").replace("\t", "\\t")  # a string holds no raw tab


def desktop_command(text: str) -> tuple[str, ...] | None:
    value = _key(text, "Exec")
    if value is None:
        return None
    unescaped = re.sub(r"\\(.)", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(
        m[1], m[1]), value)
    words = _split(unescaped)
    # Field codes (%f, %u, ...) stand for files the launcher passes: none at login.
    return tuple(w.replace("%%", "%") for w in words if not re.fullmatch(r"%[a-zA-Z]", w))


# --- macOS LaunchAgent ------------------------------------------------------------------


def launch_agent(command: Sequence[str], log_file: str) -> str:
    data = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        # Started again after a crash (a non-zero exit), not after a clean stop.
        "KeepAlive": {"SuccessfulExit": False},
        # Only in the user's graphical login, where notifications can be shown.
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Interactive",
        "StandardOutPath": log_file,
        "StandardErrorPath": log_file,
    }
    text = plistlib.dumps(data, sort_keys=False).decode()
    # A comment is the one place a plist can carry the marker without a key launchd reads.
    return text.replace("<plist ", f"<!-- {_MARKER_LINE} -->\n<plist ", 1)


def agent_command(text: str) -> tuple[str, ...] | None:
    try:
        data = plistlib.loads(text.encode())
    except Exception:  # plistlib raises several kinds (InvalidFileException, ExpatError)
        return None
    args = data.get("ProgramArguments") if isinstance(data, dict) else None
    if isinstance(args, list) and all(isinstance(a, str) for a in args):
        return tuple(args)
    program = data.get("Program") if isinstance(data, dict) else None
    return (program,) if isinstance(program, str) else None


# --- Windows Startup folder -------------------------------------------------------------

#: Written as UTF-16 with a BOM: Windows Script Host reads a script without one in the
#: ANSI code page, which would garble a user name like "José" in the path.
STARTUP_ENCODING = "utf-16"


def startup_script(command: Sequence[str]) -> str:
    """A VBScript rather than a .cmd: the daemon runs for the whole session, and a .cmd
    would keep a console window open all that time. WScript.Shell's Run with window style
    0 starts it with none."""
    require_one_line(command)
    line = subprocess.list2cmdline(list(command)).replace('"', '""')
    return (f"' {_MARKER_LINE}\r\n"
            "' Starts the daemon at login without a console window.\r\n"
            f'CreateObject("WScript.Shell").Run "{line}", 0, False\r\n')


def startup_command(text: str) -> tuple[str, ...] | None:
    found = re.search(r'\.Run\s+"((?:[^"]|"")*)"', text)
    return tuple(windows_split(found[1].replace('""', '"'))) if found else None


def windows_split(line: str) -> list[str]:
    """A Windows command line into its arguments, as the C runtime splits it (the inverse
    of ``subprocess.list2cmdline``): 2n backslashes before a quote are n and the quote
    opens or closes; 2n+1 are n and a literal quote; other backslashes are themselves."""
    words: list[str] = []
    word: list[str] = []
    quoted = started = False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            n = len(line[i:]) - len(line[i:].lstrip("\\"))
            i += n
            if i < len(line) and line[i] == '"':
                word.append("\\" * (n // 2))
                if n % 2:
                    word.append('"')
                    i += 1
            else:
                word.append("\\" * n)
            started = True
            continue
        if c == '"':
            quoted, started = not quoted, True
        elif c in " \t" and not quoted:
            if started:
                words.append("".join(word))
                word, started = [], False
        else:
            word.append(c)
            started = True
        i += 1
    if started:
        words.append("".join(word))
    return words


# --- shared ---------------------------------------------------------------------------------


def _key(text: str, name: str) -> str | None:
    """The value of the first ``name=`` line (units and desktop files alike)."""
    found = re.search(rf"^[ \t]*{name}[ \t]*=[ \t]*(.*?)[ \t]*$", text, re.MULTILINE)
    return found[1] if found else None


def _split(value: str) -> list[str]:
    """Words of a unit's ExecStart or a desktop file's Exec, split on unquoted blanks; a
    backslash takes the next character as it is, in double quotes too (both writers above
    escape that way), single quotes take everything up to the next one (hand-written)."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    started = False
    chars = iter(value)
    for c in chars:
        if quote != "'" and c == "\\":
            word.append(next(chars, ""))
        elif quote and c == quote:
            quote = ""
        elif not quote and c in "\"'":
            quote = c
        elif not quote and c in " \t":
            if started:
                words.append("".join(word))
                word, started = [], False
            continue
        else:
            word.append(c)
        started = True
    if started:
        words.append("".join(word))
    return words

