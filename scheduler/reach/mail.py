"""``kind = "email"``: the reminder as an e-mail (one-way), by SMTP with STARTTLS or
implicit TLS, the server's certificate always verified; plain SMTP only to this machine
(the settings refuse it elsewhere). The password comes from ``password_file`` (0600)."""

from __future__ import annotations

from typing import Any

from scheduler.reach.base import (
    Channel,
    ChannelDown,
    ChannelError,
    Message,
    allow_tls,
    read_secret,
)

allow_tls()  # before smtplib looks for ssl, once, at its import (only with this channel)
import smtplib  # noqa: E402
import ssl  # noqa: E402
from email.message import EmailMessage  # noqa: E402
from email.utils import formatdate, make_msgid  # noqa: E402

TIMEOUT_S = 20.0
PORTS = {"starttls": 587, "tls": 465, "plain": 25}


class EmailChannel(Channel):
    kind = "email"

    def describe(self) -> str:
        return f"{self.settings.to} via {self.settings.host}:{self._port()}"

    def _port(self) -> int:
        return int(self.settings.port or PORTS[self.settings.security])

    def send(self, message: Message) -> str:
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.settings.sender
        mail["To"] = self.settings.to
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = sent = make_msgid(domain="crampguard")
        if not message.test:
            mail["X-Crampguard-Reminder"] = message.key
        mail.set_content(message.body + "\n")
        with self._session() as smtp:
            self._call(lambda: smtp.send_message(mail))
        return sent

    def check(self) -> list[str]:
        try:
            with self._session() as smtp:
                self._call(smtp.noop)
        except ChannelError as exc:
            return [str(exc)]
        return []

    def _session(self) -> smtplib.SMTP:
        """Connected, secured and signed in."""
        settings, port = self.settings, self._port()
        password = read_secret(settings.password_file, f"reach.{self.name}.password_file") \
            if settings.password_file is not None else None
        context = ssl.create_default_context() if settings.security != "plain" else None

        def connect() -> smtplib.SMTP:
            if settings.security == "tls":
                return smtplib.SMTP_SSL(settings.host, port, timeout=TIMEOUT_S,
                                        context=context)
            return smtplib.SMTP(settings.host, port, timeout=TIMEOUT_S)

        smtp = self._call(connect)
        try:
            if settings.security == "starttls":
                self._call(lambda: smtp.starttls(context=context))
            if settings.user is not None and password is not None:
                self._call(lambda: smtp.login(settings.user, password))
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _call(self, step: Any) -> Any:
        """One SMTP step, its failure said as the channel's error (never the password)."""
        where = f"{self.settings.host}:{self._port()}"
        try:
            return step()
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelError(f"{where}: the server refused the user and password "
                               f"({exc.smtp_code})") from None
        except smtplib.SMTPNotSupportedError:
            raise ChannelError(f"{where} offers no STARTTLS; use security = \"tls\" (port "
                               f"465) if it has implicit TLS") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"{where} refused the recipient {', '.join(exc.recipients)}") \
                from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") \
                if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            error = ChannelDown if 400 <= exc.smtp_code < 500 else ChannelError
            raise error(f"{where}: {exc.smtp_code} {text}") from None
        except ssl.SSLCertVerificationError as exc:
            raise ChannelError(f"{where}: the certificate is not trusted "
                               f"({exc.verify_message})") from None
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPException) as exc:
            raise ChannelDown(f"{where}: {exc}") from None
        except TimeoutError:
            raise ChannelDown(f"{where}: no answer within {int(TIMEOUT_S)}s") from None
        except OSError as exc:
            raise ChannelDown(f"{where}: {exc.strerror or exc}") from None


CHANNEL = EmailChannel
