"""The built-in notification channels: ``log``, which writes notifications to the log.

Useful in development and tests; the email and webhook channels are plugins of their own.
"""

from __future__ import annotations

import logging

from .extension import Message, NotificationChannel
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


@hookimpl
def register_notification_channels() -> list[NotificationChannel]:
    """The built-in notification channels."""
    return [LogChannel(name="log", label="The server log")]
