"""Errors on dashboard pages: an HTML page saying what went wrong, not the API's JSON."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from watchkeeper.errors import TooManyRequests, WatchkeeperError
from watchkeeper.web.access import SignInRequired, login_redirect
from watchkeeper.web.templating import render

WEB_TAG = "web"

_TITLES = {
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Cannot do that",
    429: "Too many attempts",
    503: "Unavailable",
}


def is_page(request: Request) -> bool:
    """Whether the request was routed to a dashboard page (tagged ``web``)."""
    route = request.scope.get("route")
    return WEB_TAG in (getattr(route, "tags", None) or ())


def page_error(request: Request, error: WatchkeeperError) -> HTMLResponse:
    """The error page for ``error``, with its status code."""
    response = render(
        request,
        "error.html",
        viewer=getattr(request.state, "viewer", None),
        status_code=error.status_code,
        title=_TITLES.get(error.status_code, "Something went wrong"),
        detail=error.detail,
        status=error.status_code,
    )
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def sign_in_redirect(request: Request, exc: SignInRequired) -> Response:
    """Send a browser without a session to the sign-in page; htmx gets a full-page redirect."""
    target = login_redirect(exc.next_path)
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
