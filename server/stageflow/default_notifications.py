"""The built-in notification channels: ``log`` (the server log) and ``email`` (SMTP).

``log`` is useful in development and tests.  ``email`` sends each recipient a plain-text
email through the SMTP server of the ``smtp_*`` settings; it is off until ``smtp_host``
is set.  Which channels notifications go through is decided by :mod:`stageflow.notify`.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from .config import ConfigError
from .extension import Message, NotificationChannel, Recipient
from .hookspecs import hookimpl

logger = logging.getLogger("stageflow.notifications")


class LogChannel(NotificationChannel):
    """Write each notification to the ``stageflow.notifications`` log."""

    def send(self, message: Message) -> None:
        """Log the recipients, subject, body and link at level info."""
        recipients = ", ".join(recipient.name for recipient in message.recipients)
        logger.info(
            "to %s: %s%s%s",
            recipients or "nobody",
            message.subject,
            f"\n{message.body}" if message.body else "",
            f"\n{message.link}" if message.link else "",
        )


#: The settings the email channel reads, and the attribute each one sets.
_SMTP_SETTINGS = {
    "smtp_host": "host",
    "smtp_port": "port",
    "smtp_security": "security",
    "smtp_user": "user",
    "smtp_password": "password",
    "smtp_from": "sender",
    "smtp_timeout_seconds": "timeout",
}


@dataclass
class EmailChannel(NotificationChannel):
    """Send each recipient with an email address a plain-text email through SMTP.

    The registered channel has no server; :meth:`configured` gives the one to send with.
    Recipients without an email address are skipped (and logged).  A server that
    refuses the connection, STARTTLS, the sign-in or a recipient raises the
    :mod:`smtplib` or :class:`OSError` exception, for the caller to log.
    """

    host: str = ""
    port: int = 25
    security: str = "none"  # none | starttls | tls (checked with the settings)
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)
    sender: str = ""
    timeout: float = 10

    def configured(self, config: Mapping[str, Any]) -> EmailChannel:
        """This channel with the server's ``smtp_*`` settings.

        Raises :class:`~stageflow.config.ConfigError` when there is no server to send
        through (``smtp_host`` empty) or no From address (``smtp_from``).
        """
        settings = {field: config[key] for key, field in _SMTP_SETTINGS.items() if key in config}
        channel = dataclasses.replace(self, **settings)
        if not channel.host:
            raise ConfigError(
                f"notification_channels: the {self.name} channel needs smtp_host, "
                "the SMTP server to send through"
            )
        if not channel.sender:
            raise ConfigError(
                "smtp_from: set the From address of notification emails "
                "(e.g. 'Stageflow <stageflow@example.com>') to send email through smtp_host"
            )
        return channel

    def send(self, message: Message) -> None:
        """Email every recipient who has an address, over one SMTP connection."""
        addressed = [recipient for recipient in message.recipients if recipient.email]
        for recipient in message.recipients:
            if not recipient.email:
                logger.info(
                    "%s has no email address: not emailed %r", recipient.name, message.subject
                )
        if not addressed:
            return
        with self._connect() as smtp:
            for recipient in addressed:
                smtp.send_message(self.email_for(message, recipient))

    def email_for(self, message: Message, recipient: Recipient) -> EmailMessage:
        """The email one recipient gets: the subject, the body, then the link."""
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = recipient.email
        mail.set_content("\n\n".join(part for part in (message.body, message.link) if part))
        return mail

    def _connect(self) -> smtplib.SMTP:
        """A connection to the server, secured and signed in as the settings say."""
        if not self.host:
            raise RuntimeError(f"the {self.name} channel has no SMTP server: smtp_host is empty")
        context = ssl.create_default_context()
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


@hookimpl
def register_notification_channels() -> list[NotificationChannel]:
    """The built-in notification channels."""
    return [
        LogChannel(name="log", label="The server log"),
        EmailChannel(name="email", label="Email (SMTP)"),
    ]
