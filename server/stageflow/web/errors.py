"""Error pages: what went wrong and what to do, in the site's layout, revealing nothing.

Handlers of the ``web`` blueprint: they answer errors raised by its pages (and a
refused CSRF check on them); the API keeps its JSON errors.
"""

from __future__ import annotations

from flask import render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, NotFound

from ..access import AccessDenied
from ..records import RecordNotFound
from ..work import WorkError
from . import bp

ErrorPage = tuple[str, int]


def sentence(message: str) -> str:
    """A message as a sentence to show: ending with a full stop (or its own mark)."""
    message = message.strip()
    return message if message.endswith((".", "!", "?")) else f"{message}."


def error_page(status: int, title: str, message: str) -> ErrorPage:
    """An error page with its status code."""
    return render_template("error.html", status=status, title=title, message=message), status


@bp.errorhandler(RecordNotFound)
def _record_not_found(error: RecordNotFound) -> ErrorPage:
    return error_page(404, "Not found", str(error))


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> ErrorPage:
    return error_page(404, "Not found", error.description or "There is no such page.")


@bp.errorhandler(AccessDenied)
def _access_denied(error: AccessDenied) -> ErrorPage:
    return error_page(403, "Not allowed", str(error))


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden) -> ErrorPage:
    return error_page(403, "Not allowed", error.description or "You may not see this page.")


#: The title of an error page, by status.
TITLES = {400: "Not possible", 403: "Not allowed", 404: "Not found", 409: "Not possible now"}


@bp.errorhandler(WorkError)
def _work_refused(error: WorkError) -> ErrorPage:
    return error_page(error.code, TITLES.get(error.code, "Not possible"), sentence(error.message))


@bp.errorhandler(CSRFError)
def _csrf_refused(error: CSRFError) -> ErrorPage:
    return error_page(
        400,
        "Form refused",
        "The form was not sent from this site's current page, or it is too old. "
        "Go back, reload the page and send it again.",
    )
