"""Notifications about work: the Notifier, the email channel on a real SMTP server, settings."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import socket
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask

from stageflow.config import ConfigError, load_config
from stageflow.db import database
from stageflow.definitions import store
from stageflow.definitions.deploy import deploy_sources
from stageflow.extension import Message, NotificationChannel, Recipient
from stageflow.models import Run, StageRun, StepRun, User, WorkItem
from stageflow.notify import Notifier, channel_names

SENDER = "Stageflow <stageflow@example.com>"

DEFINITIONS = """
kind: object
name: Case
fields:
  - {name: Subject, type: text, required: true}
---
kind: flow
name: triage_form
type: form
label: Triage the case
fields:
  - {name: severity, type: picklist, values: [Minor, Major], required: true}
---
kind: orchestration
name: case_escalation
label: Case escalation
object: Case
stages:
  - name: triage
    label: Triage
    steps:
      - {name: triage, flow: triage_form, assignee: '"queue:tier1"'}
---
kind: directory
users:
  - {name: alice, email: alice@example.com}
  - {name: bob, email: bob@example.com}
  - {name: carol}
  - {name: dave, email: dave@example.com}
groups:
  - {name: leads, members: [alice, dave]}
queues:
  - {name: tier1, members: [alice, bob, carol, dave]}
"""


# -- a real SMTP server on loopback ----------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps every email it accepts."""

    def __init__(self) -> None:
        self.emails: list[EmailMessage] = []
        self.signed_in_as: list[bytes | None] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content.replace(b"\r\n", b"\n")  # as a mail program shows it
        self.emails.append(email.message_from_bytes(content, policy=email.policy.default))
        self.signed_in_as.append(session.auth_data)
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, EmailMessage]:
        return {message["To"]: message for message in self.emails}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(**options: Any) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 and a free port (aiosmtpd's ``SMTP`` options)."""
    mailbox = Mailbox()
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server collecting what it receives."""
    with smtp_server() as mailbox:
        yield mailbox


# -- work items made with the models ---------------------------------------------------


@pytest.fixture
def stageflow_app(app: Flask) -> Iterator[Flask]:
    """The app, inside its context and a connection, with the definitions deployed."""
    with app.app_context(), database.connection_context():
        step_types = app.extensions["stageflow"].registry.step_types
        deploy_sources(
            [("notify.yaml", textwrap.dedent(DEFINITIONS))], step_types=step_types, activate=True
        )
        yield app


def work_item(assignee: str, *, due_at: dt.datetime | None = None, record: bool = True) -> int:
    """A work item of the triage step of a new case_escalation run, assigned to ``assignee``."""
    run = Run.create(
        orchestration=store.active_version_id("orchestration", "case_escalation"),
        record_object="Case" if record else None,
        record_id="42" if record else None,
    )
    stage = StageRun.create(run=run, name="triage", position=0)
    step = StepRun.create(
        run=run,
        stage_run=stage,
        name="triage",
        flow_version=store.active_version_id("flow", "triage_form"),
    )
    kind, _, name = assignee.partition(":")
    item = WorkItem.create(
        run=run, step_run=step, assignee_kind=kind, assignee_name=name, due_at=due_at
    )
    return item.id


def notifier(app: Flask, **settings: Any) -> Notifier:
    """A Notifier with the app's channels and the default settings changed by these."""
    channels = app.extensions["stageflow"].registry.notification_channels
    return Notifier(channels, load_config(settings, environ={}))


def smtp_settings(mailbox: Mailbox, **more: Any) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": mailbox.port, "smtp_from": SENDER, **more}


def logged(caplog: pytest.LogCaptureFixture, level: int = logging.INFO) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "stageflow.notifications" and record.levelno == level
    ]


# -- email through the SMTP server -----------------------------------------------------


def test_a_user_item_is_emailed_with_subject_from_to_body_and_link(
    stageflow_app: Flask, mailbox: Mailbox
) -> None:
    item_id = work_item("user:alice", due_at=dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC))
    settings = smtp_settings(mailbox, base_url="https://stageflow.example.com/")
    notifier(stageflow_app, timezone="Europe/Berlin", **settings).work_assigned([item_id])

    [sent] = mailbox.emails
    assert sent["Subject"] == "New work: Triage the case on Case 42"
    assert sent["From"] == SENDER
    assert sent["To"] == "alice@example.com"
    run_id = WorkItem.get_by_id(item_id).run_id
    assert sent.get_content() == (
        "Orchestration: Case escalation (case_escalation)\n"
        f"Run:           {run_id}\n"
        "Stage:         Triage\n"
        "Step:          Triage the case\n"
        "Record:        Case 42\n"
        "Assigned to:   user alice\n"
        "Due:           2026-03-02 15:00 CET\n"
        "\n"
        f"https://stageflow.example.com/work/{item_id}\n"
    )


def test_a_queue_item_emails_each_active_member_with_an_address(
    stageflow_app: Flask, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    User.update(is_active=False).where(User.name == "dave").execute()
    item_id = work_item("queue:tier1")
    with caplog.at_level(logging.INFO, logger="stageflow.notifications"):
        notifier(stageflow_app, **smtp_settings(mailbox)).work_assigned([item_id])

    emails = mailbox.by_recipient()
    assert sorted(emails) == ["alice@example.com", "bob@example.com"]  # not carol, not dave
    for sent in emails.values():
        assert sent["Subject"] == "New work: Triage the case on Case 42"
        assert "Assigned to:   queue tier1\n" in sent.get_content()
        assert sent.get_content().endswith(f"\n/work/{item_id}\n")  # no base_url: a path
    assert "carol has no email address: not emailed 'New work: Triage the case on Case 42'" in (
        logged(caplog)
    )


def test_a_group_item_and_an_item_without_a_record(stageflow_app: Flask, mailbox: Mailbox) -> None:
    notifier(stageflow_app, **smtp_settings(mailbox)).work_assigned(
        [work_item("group:leads", record=False)]
    )
    assert sorted(mailbox.by_recipient()) == ["alice@example.com", "dave@example.com"]
    assert {sent["Subject"] for sent in mailbox.emails} == {
        "New work: Triage the case in Case escalation"
    }
    assert "Record:" not in mailbox.emails[0].get_content()


def test_reassigned_says_who_and_why(stageflow_app: Flask, mailbox: Mailbox) -> None:
    item_id = work_item("user:bob")
    sender = notifier(stageflow_app, **smtp_settings(mailbox))
    sender.work_reassigned(item_id, by="carol", reason="Alice is on holiday")
    sender.work_reassigned(item_id, by=None, reason="")
    by_carol, by_escalation = (sent.get_content() for sent in mailbox.emails)
    assert mailbox.emails[0]["Subject"] == "Work reassigned: Triage the case on Case 42"
    assert by_carol.startswith("Reassigned to you by carol: Alice is on holiday\n\nOrchestration:")
    assert by_escalation.startswith("Reassigned to you by Stageflow.\n\n")


def test_the_email_channel_signs_in_when_smtp_user_is_set(stageflow_app: Flask) -> None:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        good = (data.login, data.password) == (b"stageflow", b"s3cret")
        return AuthResult(success=good, auth_data=data.login)

    # Plain-text sign-in on loopback only: a real server would require TLS first.
    with smtp_server(authenticator=authenticate, auth_require_tls=False) as server:
        settings = smtp_settings(server, smtp_user="stageflow", smtp_password="s3cret")
        notifier(stageflow_app, **settings).work_assigned([work_item("user:alice")])
    assert server.signed_in_as == [b"stageflow"]
    assert server.emails[0]["To"] == "alice@example.com"


# -- failures: logged, never raised; the other channels still send ---------------------


@pytest.mark.parametrize(
    ("security", "error"),
    [("starttls", "SMTPNotSupportedError"), ("tls", "SSLError")],
)
def test_a_refused_secure_connection_is_logged_and_the_log_still_gets_it(
    stageflow_app: Flask,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
    security: str,
    error: str,
) -> None:
    item_id = work_item("user:alice")
    settings = smtp_settings(
        mailbox, smtp_security=security, notification_channels=["email", "log"]
    )
    with caplog.at_level(logging.INFO, logger="stageflow.notifications"):
        notifier(stageflow_app, **settings).work_assigned([item_id])
    assert mailbox.emails == []
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failure.getMessage() == (
        "notification channel email could not send 'New work: Triage the case on Case 42'"
    )
    assert failure.exc_info is not None and type(failure.exc_info[1]).__name__ == error
    assert logged(caplog)[-1].startswith("to alice: New work: Triage the case on Case 42\n")


def test_a_server_that_is_down_is_logged_and_the_log_still_gets_it(
    stageflow_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = work_item("user:alice")
    settings = {"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_from": SENDER}
    with caplog.at_level(logging.INFO, logger="stageflow.notifications"):
        notifier(stageflow_app, **settings).work_assigned([item_id])
    [failure] = logged(caplog, logging.ERROR)
    assert failure.startswith("notification channel email could not send")
    assert any(message.startswith("to alice: New work") for message in logged(caplog))


def test_a_failing_plugin_channel_does_not_stop_the_others(
    stageflow_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(NotificationChannel):
        def send(self, message: Message) -> None:
            raise RuntimeError("the pager is out of paper")

    class Collecting(NotificationChannel):
        def __init__(self, name: str) -> None:
            super().__init__(name)
            self.messages: list[Message] = []

        def send(self, message: Message) -> None:
            self.messages.append(message)

    collecting = Collecting("inbox")
    channels = {"pager": Broken("pager"), "inbox": collecting}
    config = load_config({"notification_channels": ["pager", "inbox"]}, environ={})
    with caplog.at_level(logging.INFO, logger="stageflow.notifications"):
        Notifier(channels, config).work_assigned([work_item("queue:tier1"), 999_999])
    [message] = collecting.messages
    assert [r.name for r in message.recipients] == ["alice", "bob", "carol", "dave"]
    assert message.recipients[2] == Recipient("carol", None)
    assert logged(caplog, logging.ERROR) == [
        "notification channel pager could not send 'New work: Triage the case on Case 42'"
    ]
    assert logged(caplog, logging.WARNING) == ["work item 999999 does not exist: nobody notified"]


def test_nobody_to_notify_is_logged(stageflow_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    User.update(is_active=False).where(User.name == "alice").execute()
    item_id = work_item("user:alice")
    with caplog.at_level(logging.INFO, logger="stageflow.notifications"):
        notifier(stageflow_app).work_assigned([item_id])
    assert logged(caplog, logging.WARNING) == [
        f"work item {item_id}: user:alice has no active users to notify"
    ]
    assert logged(caplog) == []


def test_the_notifier_opens_a_connection_in_a_thread_that_has_none(
    stageflow_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = work_item("user:alice")
    sender = notifier(stageflow_app)
    worker = threading.Thread(target=sender.work_assigned, args=([item_id],))
    with caplog.at_level(logging.INFO, logger="stageflow.notifications"):
        worker.start()
        worker.join()
    assert logged(caplog, logging.ERROR) == []
    assert logged(caplog)[0].startswith("to alice: New work: Triage the case on Case 42\n")


# -- settings --------------------------------------------------------------------------


def test_channels_in_use_log_by_default_and_email_with_an_smtp_host(app: Flask) -> None:
    assert channel_names(load_config(environ={})) == ["log"]
    on = load_config({"smtp_host": "smtp.example.com", "smtp_from": SENDER}, environ={})
    assert channel_names(on) == ["log", "email"]
    listed = {**on, "notification_channels": ["email", "log", "email"]}
    assert channel_names(listed) == ["email", "log"]
    assert [channel.name for channel in notifier(app).channels] == ["log"]


def test_unknown_channel_name_is_a_config_error_naming_the_setting(app: Flask) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^notification_channels: there is no notification channel 'pager'; "
        r"the channels are: email, log$",
    ):
        notifier(app, notification_channels=["log", "pager"])


def test_email_needs_a_server_and_a_from_address(app: Flask) -> None:
    with pytest.raises(ConfigError, match=r"^notification_channels: the email channel needs"):
        notifier(app, notification_channels=["email"])
    with pytest.raises(ConfigError, match=r"^smtp_from: set the From address"):
        notifier(app, smtp_host="smtp.example.com")


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("smtp_security", "ssl", "must be one of none, starttls, tls"),
        ("smtp_port", 0, "must be from 1 to 65535"),
        ("smtp_timeout_seconds", 0, "must be at least 1"),
        ("smtp_host", "smtp://mail.example.com", "must be a host name"),
        ("smtp_from", "stageflow", "must be an email address"),
        ("base_url", "stageflow.example.com", "must be empty or an http:// or https:// URL"),
        ("notification_channels", ["log", ""], "must be a list of names"),
    ],
)
def test_bad_notification_settings_name_the_setting(setting: str, value: Any, problem: str) -> None:
    with pytest.raises(ConfigError, match=rf"^create_app\(config=...\): {setting}: {problem}"):
        load_config({setting: value}, environ={})


def test_notification_settings_from_the_environment() -> None:
    settings = load_config(
        environ={
            "STAGEFLOW_NOTIFICATION_CHANNELS": "log, email",
            "STAGEFLOW_SMTP_PORT": "587",
            "STAGEFLOW_SMTP_SECURITY": "starttls",
            "STAGEFLOW_BASE_URL": "https://stageflow.example.com",
        }
    )
    assert settings["notification_channels"] == ["log", "email"]
    assert settings["smtp_port"] == 587
    assert settings["smtp_security"] == "starttls"
    with pytest.raises(ConfigError, match=r"STAGEFLOW_SMTP_SECURITY: smtp_security: must be"):
        load_config(environ={"STAGEFLOW_SMTP_SECURITY": "ssl"})
