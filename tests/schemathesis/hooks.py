"""schemathesis hooks for GLEH (run by tests/schemathesis/run.sh).

Every case is sent signed in, as the admin account run.sh created, with the session cookie
and the CSRF header of that session (docs/design.md "CSRF"): the auth provider logs in and
fetches GET /csrf-token, and keeps both until an answer shows the session ended (a 401, a
CSRF token refused as invalid, or a revoked session of its own).

POST /api/logout is sent with a session of its own (a fresh login), so that logging out,
which schemathesis does often, does not end the session the other cases use; and
a password for the admin's account is always its real one (see `before_call`).

Half of the generated course uids (path and body) are replaced by the uid of a course of the
sample catalog, so that progress and notes reach the handlers' work instead of 404.
"""

import os
import zlib

import requests
import schemathesis

BASE = os.environ["GLEH_ST_BASE"]
USER = os.environ["GLEH_ST_USER"]
PASSWORD = os.environ["GLEH_ST_PASSWORD"]
COOKIE = os.environ.get("GLEH_ST_COOKIE", "session")

_current = None
logins = 0


def _login():
    global logins
    s = requests.Session()
    r = s.post(f"{BASE}/api/login", json={"username": USER, "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    logins += 1
    return s


def _session():
    global _current
    if _current is None:
        s = _login()
        r = s.get(f"{BASE}/csrf-token", timeout=30)
        r.raise_for_status()
        _current = {"cookie": s.cookies.get(COOKIE), "csrf": r.json()["csrf_token"]}
    return _current


# Asked for every case (no caching of schemathesis's own): `_session` keeps the session.
@schemathesis.auth(refresh_interval=None, retry_on=[401])
class GlehSession:
    def get(self, case, context):
        return _session()

    def set(self, case, data, context):
        case.cookies = dict(case.cookies or {})
        case.cookies[COOKIE] = data["cookie"]
        case.headers = dict(case.headers or {})
        case.headers["X-CSRFToken"] = data["csrf"]


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() == "POST" and case.path == "/api/logout":
        if case.cookies and COOKIE in case.cookies:
            case.cookies[COOKIE] = _login().cookies.get(COOKIE)
    # A wrong password for the run's admin, at login or at re-authentication, counts against
    # the account (docs/design.md "Passwords and accounts"): a few would lock it out of the
    # run. schemathesis learns the admin's name from the answers and tries it at login, so
    # a string password for that account is the right one.
    body = case.body
    if case.method.upper() == "POST" and isinstance(body, dict) and isinstance(body.get("password"), str):
        names_admin = isinstance(body.get("username"), str) and body["username"].lower() == USER
        if case.path == "/api/admin/reauth" or (case.path == "/api/login" and names_admin):
            case.body = dict(body, password=PASSWORD)


@schemathesis.hook
def after_call(context, case, response):
    global _current
    if _current is None or (case.cookies or {}).get(COOKIE) != _current["cookie"]:
        return
    text = response.text
    ended = response.status_code == 401 and (
        "Authentication required" in text or "Not logged in" in text or "is_authenticated" in text
    )
    if response.status_code == 400 and "CSRF token is invalid" in text:
        ended = True
    if case.method.upper() == "DELETE" and case.path == "/api/sessions/{id}" and response.status_code == 200:
        ended = True
    if ended:
        _current = None


_uids = None


def _course_uids():
    global _uids
    if _uids is None:
        r = requests.get(f"{BASE}/api/content", timeout=30)
        r.raise_for_status()
        _uids = [c["uid"] for c in r.json()["content"] if c.get("type") == "course"]
    return _uids


def _known(value):
    """A known course uid instead of `value`, for half of the values (deterministically)."""
    uids = _course_uids()
    if not uids or not isinstance(value, str) or zlib.crc32(value.encode()) % 2:
        return value
    return uids[zlib.crc32(value.encode()) % len(uids)]


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    op = context.operation
    if op is not None and op.path == "/api/course/{uid}/note" and path_parameters:
        path_parameters["uid"] = _known(path_parameters.get("uid"))
    return path_parameters


@schemathesis.hook
def map_body(context, body):
    op = context.operation
    if op is not None and op.path in ("/api/course/progress", "/api/course/note") and isinstance(body, dict):
        if "course_uid" in body:
            body = dict(body, course_uid=_known(body["course_uid"]))
    return body
