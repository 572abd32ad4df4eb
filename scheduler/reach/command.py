"""``kind = "command"``: a program run with the reminder in its arguments (one-way), e.g.
``["kdeconnect-cli", "-d", "ID", "--ping-msg", "{title}: {message}"]``.

Never through a shell: each item of ``argv`` is one argument as written, with ``{title}``
and ``{message}`` replaced, so nothing in a routine's text can become a command.
"""

from __future__ import annotations

import shutil
import subprocess

from scheduler.reach.base import Channel, ChannelDown, ChannelError, Message

#: What of the program's complaint goes into the log and `status`.
STDERR_TAIL = 300


class CommandChannel(Channel):
    kind = "command"

    def describe(self) -> str:
        return str(self.settings.argv[0])

    def argv(self, message: Message) -> list[str]:
        text = message.body
        return [part.replace("{title}", message.title).replace("{message}", text)
                for part in self.settings.argv]

    def send(self, message: Message) -> str:
        argv = self.argv(message)
        timeout = self.settings.timeout.total_seconds()
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False)
        except FileNotFoundError:
            raise ChannelError(f"{argv[0]}: no such program; give its full path or "
                               f"install it") from None
        except PermissionError:
            raise ChannelError(f"{argv[0]}: not allowed to run it (is it executable?)") \
                from None
        except subprocess.TimeoutExpired:
            raise ChannelDown(f"{argv[0]} did not finish within {int(timeout)}s") from None
        except OSError as exc:
            raise ChannelDown(f"{argv[0]}: {exc.strerror or exc}") from None
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip()[-STDERR_TAIL:]
            # a phone out of reach (kdeconnect) may answer next time
            raise ChannelDown(f"{argv[0]} exited with status {done.returncode}"
                              + (f": {said}" if said else ""))
        return ""

    def check(self) -> list[str]:
        program = self.settings.argv[0]
        if shutil.which(program) is None:
            return [f"{program}: no such program on PATH (nor an executable file there)"]
        return []


CHANNEL = CommandChannel
