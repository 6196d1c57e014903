"""A Judge0-compatible API (1.13.1), under JUDGE0_PREFIX (default /judge0): clients switch by URL.

Requests and answers use Judge0's field names, units (seconds, KB), defaults and maxima, status
ids and error shapes (422 `{field: [messages]}`, 503 `{"error": "queue is full"}`); the domain
side is judge/service/judge0.py. A submission here is our ad hoc run (no problem) with a UUID
token and Judge0's settings kept as its options, graded by the same workers.

Authentication: `X-Auth-Token` (header or query parameter) carries one of our API tokens
(`judge token create`), as Judge0's AUTHN_HEADER; `Authorization: Bearer` works too. As in a
Judge0 with authentication on (its SessionsController), every route needs it, the catalogue and
system ones too; a token limited to scopes needs `submit` to submit and `read` for the rest.
Listing all submissions needs an organiser's token, with `organise` if scoped, in `X-Auth-User`
(Judge0's AUTHZ_HEADER). A contestant reads only their own submissions: another's token is
"submission not found" (404), as the API answers for another's id; organisers read all.
Rate limits (web/ratelimit.py) count a token's requests here and on /api/v1 together, and a
user's submissions whichever way they come; over one, the answer is 429 with Retry-After and
the JSON API's error body, Judge0 having no 429 of its own.

Requests are read as Rails reads them (app/models/submission.rb): numbers may come as strings
("50"), blank text options are no options (Judge0's IDE sends `"compiler_options": ""` for
every language), booleans are cast ("false"), and every route also answers with a trailing
slash (judge0api sends `POST /submissions/`). Malformed requests get Judge0's 422
`{field: [messages]}` with its messages (tests/service/test_bad_input.py): a blank or missing
source or language, a wrong type, a limit out of range, base64 that does not decode, text that
is no text (a lone surrogate; NUL outside the program and its input), an `additional_files`
zip that judge/problems/archive.py would refuse or whose names the program's own files take
(issue 17: refused here, never an IE after retries). Batch sizes and pages are Judge0's 400s,
a missing or wrong X-Auth-User its 403. Fields Judge0 does not know are ignored, as its strong
parameters drop them. Every failure of a route here is JSON too, never a page.
tests/service/test_judge0_clients.py replays Judge0's clients, docs and IDE against all this.

Not offered (answered with Judge0's own 422 as a Judge0 configured without them would):
`enable_network`, and per-process time or memory limits. `cpu_extra_time`
is accepted and shown but does not change the run (our CPU limit is exact: no grace period).
Callbacks are PUTs of the default fields in base64, as Judge0
sends them, with our X-Judge-Signature header added. Beyond Judge0, opt-in and never changing a
Judge0 field: `judge_verdict` (our verdict, with MLE and OLE) is a field a client may ask for in
`fields`; `judge_checker: "kattis"` with `judge_checker_args` (e.g. `["float_tolerance",
"1e-6"]`) compares `expected_output` with Kattis's default output validator instead.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
import platform
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy.exc
from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from judge.checkers import default as default_checker
from judge.errors import Refused
from judge.problems.archive import CheckedZip
from judge.problems.files import PackageError
from judge.service import judge0, queue, submissions, webhooks, workers
from judge.service.grade import AD_HOC_TIME_S
from judge.service.settings import Settings
from judge.service.submissions import NewSubmission
from judge.storage import repo
from judge.storage.models import Submission, SubmissionState, User
from web.api.auth import is_staff, may_see, token_caller
from web.api.body import read_json, text_fault, url_fault
from web.api.errors import STATUS, ApiError
from web.context import context
from web.streams import held_wait

log = logging.getLogger(__name__)
blueprint = Blueprint("judge0", __name__)  # create_app mounts it at JUDGE0_PREFIX (default /judge0)
MAX_BATCH = 20
BATCH_UTF8_ERROR = (
    "some attributes for one or more submissions cannot be converted to UTF-8, "
    "use base64_encoded=true query parameter"
)
WAIT_MAX_S = 60.0
METACHARACTERS = str.maketrans("", "", "$&;<>|`")
LIMITS: dict[str, tuple[float, float, float | int]] = {  # field: (min, max, default), Judge0's config
    "cpu_time_limit": (0, 15, 5.0),
    "cpu_extra_time": (0, 5, 1.0),
    "wall_time_limit": (1, 20, 10.0),
    "memory_limit": (2048, 512000, 128000),
    "stack_limit": (0, 128000, 64000),
    "max_processes_and_or_threads": (0, 120, 60),  # POSITIVE: over 0
    "max_file_size": (0, 4096, 1024),
    "number_of_runs": (0, 20, 1),
}
POSITIVE = frozenset({"max_processes_and_or_threads", "number_of_runs"})  # Rails' greater_than: 0
TEXT_OPTIONS = ("compiler_options", "command_line_arguments")  # kept as given and put in the command line
NOT_ALLOWED = {  # Judge0's messages with ALLOW_ENABLE_NETWORK and ALLOW_ENABLE_PER_PROCESS_* false
    "enable_network": "enabling network is not allowed",
    "enable_per_process_and_thread_time_limit": "this option cannot be enabled",
    "enable_per_process_and_thread_memory_limit": "this option cannot be enabled",
}


def _fail(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@blueprint.errorhandler(_Refused)
def _refused(e: _Refused) -> Response:
    return e.response


@blueprint.errorhandler(judge0.NotUtf8)
def _not_utf8(e: judge0.NotUtf8) -> Response:
    return _fail(400, {"error": str(e)})


@blueprint.errorhandler(ApiError)
def _api_error(e: ApiError) -> Response:
    return _fail(e.status, {"error": e.message})


@blueprint.errorhandler(Refused)
def _service_refused(e: Refused) -> Response:
    """The service's refusals (judge/errors.py) with the API's statuses, in Judge0's shape."""
    return _fail(STATUS[e.why], {"error": e.message})


@blueprint.errorhandler(HTTPException)
def _http_error(e: HTTPException) -> Response:
    """Werkzeug's own (a body over the size limit, a wrong method) as JSON, like the rest."""
    return _fail(e.code or 500, {"error": e.description or e.name})


@blueprint.errorhandler(sqlalchemy.exc.OperationalError)
@blueprint.errorhandler(sqlalchemy.exc.InterfaceError)
def _database_away(e: Exception) -> Response:
    """Locked past its busy timeout or away: 503 with Retry-After, in Judge0's shape."""
    cause = str(getattr(e, "orig", None) or e).splitlines()[0]
    log.warning("Judge0 API: the database is unavailable: %s", cause)
    response = _fail(503, {"error": "the database is unavailable; try again in a few seconds"})
    response.headers["Retry-After"] = "5"
    return response


@blueprint.errorhandler(Exception)
def _unexpected(e: Exception) -> Response:
    log.exception("unexpected error in the Judge0 API")
    return _fail(500, {"error": "the judge failed; the error is logged"})


SUBMITTING = {"judge0.create_submission", "judge0.create_batch"}  # need the `submit` scope


def token_secret(header: str = "X-Auth-Token") -> str | None:
    """The token this request carries in `header` (or its query parameter), else a bearer token."""
    secret = request.headers.get(header) or request.args.get(header)
    if not secret and header == "X-Auth-Token":
        scheme, _, rest = request.headers.get("Authorization", "").partition(" ")
        secret = rest.strip() if scheme.lower() == "bearer" else None
    return secret or None


def _user(header: str = "X-Auth-Token", scope: str | None = None) -> User:
    """The token's user: 401 without a good token, 403 when its scopes do not cover `scope`."""
    secret = token_secret(header)
    if not secret:
        raise _Refused(_fail(401, {"error": f"authentication failed: send a token in {header}"}))
    caller = token_caller(secret)
    if caller is None:
        raise _Refused(_fail(401, {"error": "authentication failed"}))
    if scope is not None and not caller.allows(scope):
        raise _Refused(
            _fail(
                403,
                {
                    "error": f"this token is limited to {', '.join(sorted(caller.scopes))}; "
                    f"this needs {scope!r}"
                },
            )
        )
    return caller.user


@blueprint.before_request
def _refuse_nul_in_urls() -> Response | None:
    fault = url_fault()
    return _fail(400, {"error": fault}) if fault is not None else None


@blueprint.before_request
def _authenticate() -> None:
    _user(scope="submit" if request.endpoint in SUBMITTING else "read")


def _admin() -> User | None:
    """The organiser named by X-Auth-User, or None: Judge0's authorize_request answers 403 to anything
    else (no token there, a wrong one, a contestant's)."""
    try:
        admin = _user("X-Auth-User", scope="organise")
    except _Refused:
        return None
    return admin if is_staff(admin) else None


def _flag(name: str, default: bool = False) -> bool:
    value = request.args.get(name)
    return default if value is None else value.lower() == "true"


def _fields() -> tuple[str, ...]:
    wanted = request.args.get("fields")
    if not wanted:
        return judge0.DEFAULT_FIELDS
    if wanted.strip() == "*":
        return judge0.STAR_FIELDS
    names = tuple(f.strip() for f in wanted.split(",") if f.strip())
    unknown = [f for f in names if f not in judge0.ALL_FIELDS]
    if unknown:
        raise _Refused(_fail(400, {"error": f"invalid fields: [{', '.join(unknown)}]"}))
    return names


def _decode(value: Any, b64: bool, name: str, errors: dict[str, list[str]]) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.setdefault(name, []).append("must be a string")
        return None
    if not b64:
        fault = text_fault(value, nul_ok=True)
        if fault is not None:
            errors.setdefault(name, []).append(f"{fault}, or base64 with base64_encoded=true")
            return None
        return value.encode("utf-8")
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        errors.setdefault(name, []).append("is not valid base64")
        return None


def _blank(value: Any) -> bool:
    """Rails' `blank?`: absent, or a string of white space only."""
    return value is None or (isinstance(value, str) and not value.strip())


NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _number(value: Any) -> float | int | None:
    """A number as Rails' numericality takes it (a JSON number, or a string of one, "2" or "2.5"),
    or None for anything else (true, "abc", infinity)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not NUMBER.fullmatch(value):
            return None
        number = float(value)
        integral = number.is_integer() and not any(c in value for c in ".eE")
        return int(number) if integral else number
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def _boolean(value: Any) -> bool | None:
    """Rails' boolean cast: false, 0, "0", "f", "false", "off" (any case) are false, blank is null."""
    if _blank(value):
        return None
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "f", "false", "off")
    return value not in (False, 0)


def _language_id(value: Any) -> int | None:
    """Rails' integer cast of language_id: 50, "50", 50.0; None for what is no number."""
    number = _number(value)
    if number is None:
        return None
    try:
        return int(number)
    except OverflowError:  # 1e400 is a float Rails would take; no language has that id
        return -1


def _zip_fault(value: Any) -> str | None:
    """Why `additional_files` is not a base64 zip the worker can unpack (judge/problems/archive.py's
    checks, with Judge0's MAX_EXTRACT_SIZE), or None."""
    if not isinstance(value, str):
        return "must be a base64 string"
    try:
        data = base64.b64decode(value)
    except (binascii.Error, ValueError):
        return "is not valid base64"
    try:
        CheckedZip(data, "additional_files", max_bytes=judge0.MAX_EXTRA_BYTES).close()
    except PackageError as e:
        return e.fault
    return None


def _parse(doc: Any, user: User, b64: bool) -> tuple[NewSubmission | None, dict[str, list[str]]]:
    """(the submission to store, {}) or (None, Judge0's 422 errors) for one submission.

    As Rails takes a request (app/models/submission.rb): numbers may come as strings ("50"),
    blank text options are no options, booleans are cast ("false" is false), and the messages
    are Judge0's own."""
    errors: dict[str, list[str]] = {}
    if not isinstance(doc, dict):
        return None, {"submission": ["must be an object"]}
    raw_jid = doc.get("language_id")
    jid = _language_id(raw_jid)
    j0 = judge0.LANGUAGES.get(jid) if jid is not None else None
    if jid is None:
        errors.setdefault("language_id", []).append("can't be blank")
    elif jid in judge0.ARCHIVED:
        errors.setdefault("language_id", []).append(
            f"language with id {jid} is archived and cannot be used anymore"
        )
    elif j0 is None and jid in judge0.UNAVAILABLE:
        errors.setdefault("language_id", []).append(
            f"language with id {jid} is archived and cannot be used anymore ({judge0.UNAVAILABLE[jid]})"
        )
    elif j0 is None:
        errors.setdefault("language_id", []).append(f"language with id {jid} doesn't exist")
    source = _decode(doc.get("source_code"), b64, "source_code", errors)
    if (source is None or not source.strip()) and "source_code" not in errors:
        errors.setdefault("source_code", []).append("can't be blank")  # Rails' presence: blank is absent
    for name in TEXT_OPTIONS:
        fault = text_fault(doc[name]) if isinstance(doc.get(name), str) else None
        if fault is not None:
            errors.setdefault(name, []).append(fault)
    stdin = _decode(doc.get("stdin"), b64, "stdin", errors)
    expected = _decode(doc.get("expected_output"), b64, "expected_output", errors)
    options: dict[str, Any] = {"api": "judge0", "compare": "judge0"}
    if j0 is not None:
        options["language_id"] = j0.id
    if stdin is None:
        options["no_stdin"] = True  # shown as null, as Judge0 shows an absent stdin
    for name, (lo, hi, default) in LIMITS.items():
        value = doc.get(name)
        if _blank(value):
            options[name] = default
            continue
        number = _number(value)
        if number is None:
            errors.setdefault(name, []).append("is not a number")
        elif not lo <= number <= hi or (name in POSITIVE and number <= 0):
            errors.setdefault(name, []).append(
                "must be greater than 0"
                if name in POSITIVE and number <= 0
                else f"must be greater than or equal to {_bound(lo, name, False)}"
                if number < lo
                else f"must be less than or equal to {_bound(hi, name, True)}"
            )
        else:
            options[name] = number if name in judge0.DECIMAL_OPTIONS else int(number)
    for name, why in NOT_ALLOWED.items():
        if _boolean(doc.get(name)):
            errors.setdefault(name, []).append(why)
    compiler = doc.get("compiler_options")
    if not _blank(compiler):  # Judge0 checks only a non-blank one; the IDE always sends ""
        if not isinstance(compiler, str) or len(compiler) > 512:
            errors.setdefault("compiler_options", []).append("is too long (maximum is 512 characters)")
        elif j0 is not None and not j0.compiled:
            errors.setdefault("compiler_options", []).append(
                "setting compiler options is only allowed for compiled languages"
            )
        else:
            options["compiler_options"] = compiler.translate(METACHARACTERS)
    elif isinstance(compiler, str):
        options["compiler_options"] = compiler
    args = doc.get("command_line_arguments")
    if not _blank(args):
        if not isinstance(args, str) or len(args) > 512:
            errors.setdefault("command_line_arguments", []).append("is too long (maximum is 512 characters)")
        else:
            options["command_line_arguments"] = args.translate(METACHARACTERS)
    elif isinstance(args, str):
        options["command_line_arguments"] = args
    redirect = _boolean(doc.get("redirect_stderr_to_stdout"))
    if redirect is not None:
        options["redirect_stderr_to_stdout"] = redirect
    if not _blank(doc.get("additional_files")):
        fault = _zip_fault(doc["additional_files"])
        if fault is None and j0 is not None and source is not None:  # issue 17: a clash is 422, not IE
            try:
                names = [name for name, _, _ in judge0.unpack_files(doc["additional_files"])]
                fault = judge0.clash(names, judge0.own_names(j0.id, j0.ours, source))
            except judge0.FilesRefused as e:
                fault = str(e)
        if fault is not None:
            errors.setdefault("additional_files", []).append(fault)
        else:
            options["additional_files"] = doc["additional_files"]
    checker = doc.get("judge_checker")  # ours, opt-in: Kattis's default output validator and its flags
    if checker is not None:
        flags = doc.get("judge_checker_args") or []
        if checker not in ("judge0", "kattis"):
            errors.setdefault("judge_checker", []).append("must be judge0 or kattis")
        elif not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            errors.setdefault("judge_checker_args", []).append("must be a list of strings")
        else:
            try:
                default_checker.parse_flags(flags)
            except ValueError as e:
                errors.setdefault("judge_checker_args", []).append(str(e))
            options["compare"], options["checker_args"] = checker, flags
    callback = doc.get("callback_url")
    if not _blank(callback):
        refused = webhooks.check_url(callback) if isinstance(callback, str) else "must be a string"
        if refused:
            errors.setdefault("callback_url", []).append(refused)
        else:
            options["callback"] = "judge0"
            options["callback_url"] = callback
    else:
        callback = None
    if errors:
        return None, errors
    assert j0 is not None and source is not None
    memory_kb = float(options["memory_limit"])
    return NewSubmission(
        language=j0.ours,
        source=source,
        user_id=user.id,
        stdin=stdin if stdin is not None else b"",
        expected_output=expected,
        time_limit_s=max(float(options["cpu_time_limit"]), 0.001) or AD_HOC_TIME_S,
        memory_mib=max(1, math.ceil(memory_kb / 1024)),
        callback_url=callback,
        token=str(uuid.uuid4()),
        options=json.dumps(options),
    ), {}


def _bound(value: float, name: str, upper: bool) -> str:
    """A bound as Judge0's message has it: its configured maxima of decimal settings as Ruby writes
    a float ("15.0"), the rest as written in its model ("0", "2048")."""
    return (judge0.decimal(value) or "") if upper and name in judge0.DECIMAL_OPTIONS else f"{int(value)}"


def _check_queue(adding: int = 1) -> None:
    """Judge0's check_queue_size: 503 when the queue cannot take `adding` more."""
    with context().sessions() as session:
        waiting = repo.count_in_states(session, [SubmissionState.QUEUED])
    if waiting + adding > Settings.from_env().judge0_max_queue_size:
        raise _Refused(_fail(503, {"error": "queue is full"}))


def _by_token(token: str) -> Submission | None:
    with context().sessions() as session:
        return repo.submission_by_token(session, token)


def _by_id(submission_id: int) -> Submission:
    with context().sessions() as session:
        sub = repo.get_submission(session, submission_id)
    assert sub is not None
    return sub


@blueprint.post("/submissions", strict_slashes=False)
def create_submission() -> Response | tuple[Any, int]:
    user = _user()
    b64, fields = _flag("base64_encoded"), _fields()
    fields_, errors = _parse(read_json(), user, b64)
    if fields_ is None:
        return errors, 422
    _check_queue()
    (sid,) = submissions.create(context(), [fields_])
    if not _flag("wait"):
        return {"token": fields_.token}, 201
    sub = held_wait(sid, user, WAIT_MAX_S, lambda: _by_id(sid))  # capped per user, as /api/v1's
    try:
        return judge0.document(sub, b64=b64, fields=fields), 201
    except judge0.NotUtf8 as e:
        return {"token": fields_.token, "error": str(e)}, 201


@blueprint.get("/submissions/<token>", strict_slashes=False)
def get_submission(token: str) -> tuple[Any, int]:
    user = _user()
    b64, fields = _flag("base64_encoded"), _fields()
    sub = _by_token(token)
    if sub is None or not may_see(user, sub):
        return {"error": "submission not found"}, 404
    return judge0.document(sub, b64=b64, fields=fields), 200


@blueprint.post("/submissions/batch", strict_slashes=False)
def create_batch() -> tuple[Any, int]:
    user = _user()
    b64 = _flag("base64_encoded")
    body = read_json()
    items = body.get("submissions") if isinstance(body, dict) else None
    if not isinstance(items, list):
        items = []
    if len(items) > MAX_BATCH:
        return {"error": f"number of submissions in a batch should be less than or equal to {MAX_BATCH}"}, 400
    if not items:
        return {"error": "there should be at least one submission in a batch"}, 400
    _check_queue(len(items))
    parsed = [_parse(item, user, b64) for item in items]
    good = [f for f, _ in parsed if f is not None]
    if not good:
        return [e for _, e in parsed], 422
    submissions.create(context(), good)
    return [{"token": f.token} if f is not None else e for f, e in parsed], 201


@blueprint.get("/submissions/batch", strict_slashes=False)
def get_batch() -> tuple[Any, int]:
    user = _user()
    b64, fields = _flag("base64_encoded"), _fields()
    given = request.headers.get("tokens") or request.args.get("tokens") or ""
    tokens = [t.strip() for t in given.strip().split(",") if t.strip()]
    if len(tokens) > MAX_BATCH:
        return {"error": f"number of submissions in a batch should be less than or equal to {MAX_BATCH}"}, 400
    if not tokens:
        return {"error": "there should be at least one submission in a batch"}, 400
    found = [s if s is not None and may_see(user, s) else None for s in map(_by_token, tokens)]
    try:
        docs = [judge0.document(s, b64=b64, fields=fields) if s else None for s in found]
    except judge0.NotUtf8:
        return {"error": BATCH_UTF8_ERROR}, 400
    return {"submissions": docs}, 200


def _ruby_int(value: str | None, default: int) -> int:
    """Ruby's String#to_i, as Judge0 reads page and per_page: leading digits, else 0."""
    if value is None:
        return default
    found = re.match(r"\s*([+-]?\d+)", value)
    return int(found.group(1)) if found else 0


@blueprint.get("/submissions", strict_slashes=False)
def list_submissions() -> tuple[Any, int]:
    if _admin() is None:
        return {"error": "authorization failed"}, 403
    b64, fields = _flag("base64_encoded"), _fields()
    page = _ruby_int(request.args.get("page"), 1)
    per_page = _ruby_int(request.args.get("per_page"), 20)
    if page <= 0:
        return {"error": f"invalid page: {page}"}, 400
    if per_page <= 0:  # Judge0 refuses a negative one; will_paginate fails on 0
        return {"error": f"invalid per_page: {per_page}"}, 400
    per_page = min(per_page, 100)
    with context().sessions() as session:
        total = repo.count_with_token(session)
        offset = (page - 1) * per_page
        # past the end: no query (an offset of 10^30 overflows the database)
        subs = repo.page_with_token(session, offset=offset, limit=per_page) if offset < total else []
        try:
            docs = [judge0.document(s, b64=b64, fields=fields) for s in subs]
        except judge0.NotUtf8:
            return {"error": BATCH_UTF8_ERROR}, 400
    pages = max(1, math.ceil(total / per_page))
    return {
        "submissions": docs,
        "meta": {
            "current_page": page,
            "next_page": page + 1 if page < pages else None,
            "prev_page": page - 1 if page > 1 else None,
            "total_pages": pages,
            "total_count": total,
        },
    }, 200


def _by_name() -> list[judge0.Judge0Language]:
    return sorted(judge0.LANGUAGES.values(), key=lambda lang: lang.name)  # Judge0 orders them by name


@blueprint.get("/languages", strict_slashes=False)
def get_languages() -> tuple[Any, int]:
    return [judge0.language_doc(lang.id, full=False) for lang in _by_name()], 200


@blueprint.get("/languages/all", strict_slashes=False)
def get_all_languages() -> tuple[Any, int]:
    """Every id we take, not archived; a name says what runs an id that Judge0 gave another version
    ("C (GCC 12.2.0, for Judge0's GCC 7.4.0)"). Then Judge0's languages that Debian cannot give us,
    archived, each name saying so (judge0.UNAVAILABLE), unless an operator added one."""
    taken = [{**judge0.language_doc(lang.id, full=False), "is_archived": False} for lang in _by_name()]
    lacking = [
        {"id": jid, "name": name, "is_archived": True}
        for jid, name in sorted(judge0.UNAVAILABLE.items(), key=lambda item: item[1])
        if jid not in judge0.LANGUAGES
    ]
    return taken + lacking, 200


@blueprint.get("/languages/<int:language_id>", strict_slashes=False)
def get_language(language_id: int) -> tuple[Any, int]:
    if language_id not in judge0.LANGUAGES:
        return {"error": f"language with id {language_id} doesn't exist"}, 404
    return judge0.language_doc(language_id, full=True), 200


@blueprint.get("/statuses", strict_slashes=False)
def get_statuses() -> tuple[Any, int]:
    return [{"id": i, "description": d} for i, d in judge0.STATUSES.items()], 200


@blueprint.get("/about", strict_slashes=False)
def about() -> dict[str, Any]:
    return {
        "version": judge0.VERSION,
        "homepage": request.host_url,
        "source_code": request.host_url,
        "maintainer": "judge (a Judge0-compatible API; see /api/v1/openapi.json for its own)",
    }


def _text(body: str) -> Response:
    return Response(body, mimetype="text/plain")


@blueprint.get("/version", strict_slashes=False)
def version() -> Response:
    return _text(judge0.VERSION)


@blueprint.get("/isolate", strict_slashes=False)
def isolate() -> Response:
    return _text("judge sandbox: namespaces, cgroups and seccomp (not isolate; compatible answers)")


@blueprint.get("/license", strict_slashes=False)
def license_() -> Response:
    return _text("MIT")


@blueprint.get("/system_info", strict_slashes=False)
def system_info() -> dict[str, Any]:
    mem = {}
    try:
        for line in open("/proc/meminfo"):  # read at once
            key, _, value = line.partition(":")
            mem[key] = value.strip()
    except OSError:
        pass
    return {
        "Architecture": platform.machine(),
        "CPU(s)": str(os.cpu_count()),
        "Model name": platform.processor() or platform.machine(),
        "Mem": mem.get("MemTotal", ""),
        "Swap": mem.get("SwapTotal", ""),
    }


@blueprint.get("/config_info", strict_slashes=False)
def config_info() -> dict[str, Any]:
    return {
        "maintenance_mode": False,
        "enable_wait_result": True,
        "enable_compiler_options": True,
        "allowed_languages_for_compile_options": [],
        "enable_command_line_arguments": True,
        "enable_submission_delete": False,
        "enable_callbacks": True,
        "callbacks_max_tries": webhooks.MAX_ATTEMPTS,
        "callbacks_timeout": webhooks.TIMEOUT_S,
        "enable_additional_files": True,
        "max_queue_size": Settings.from_env().judge0_max_queue_size,
        "cpu_time_limit": LIMITS["cpu_time_limit"][2],
        "max_cpu_time_limit": float(LIMITS["cpu_time_limit"][1]),  # Judge0's decimal settings are floats
        "cpu_extra_time": LIMITS["cpu_extra_time"][2],
        "max_cpu_extra_time": float(LIMITS["cpu_extra_time"][1]),  # Judge0's decimal settings are floats
        "wall_time_limit": LIMITS["wall_time_limit"][2],
        "max_wall_time_limit": float(LIMITS["wall_time_limit"][1]),  # Judge0's decimal settings are floats
        "memory_limit": LIMITS["memory_limit"][2],
        "max_memory_limit": LIMITS["memory_limit"][1],
        "stack_limit": LIMITS["stack_limit"][2],
        "max_stack_limit": LIMITS["stack_limit"][1],
        "max_processes_and_or_threads": LIMITS["max_processes_and_or_threads"][2],
        "max_max_processes_and_or_threads": LIMITS["max_processes_and_or_threads"][1],
        "enable_per_process_and_thread_time_limit": False,
        "allow_enable_per_process_and_thread_time_limit": False,
        "enable_per_process_and_thread_memory_limit": False,
        "allow_enable_per_process_and_thread_memory_limit": False,
        "max_file_size": LIMITS["max_file_size"][2],
        "max_max_file_size": LIMITS["max_file_size"][1],
        "number_of_runs": LIMITS["number_of_runs"][2],
        "max_number_of_runs": LIMITS["number_of_runs"][1],
        "redirect_stderr_to_stdout": False,
        "max_extract_size": 10240,
        "enable_batched_submissions": True,
        "max_submission_batch_size": MAX_BATCH,
        "submission_cache_duration": 0.0,
        "use_docs_as_homepage": False,
        "allow_enable_network": False,
        "enable_network": False,
    }


def _size_pretty(size: int) -> str:
    """As PostgreSQL's pg_size_pretty: bytes, kB, MB, GB, each up to 10240 of it, rounded half up."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 10 * 1024 or unit == "GB":
            return f"{size} {unit}"
        size = (size + 512) // 1024
    raise AssertionError("unreachable")


@blueprint.get("/statistics", strict_slashes=False)
def statistics() -> dict[str, Any]:
    """Judge0's InfoController#statistics: counts by language and status (most first), today's
    submissions, each of the 30 days before it (newest first) and the database's size."""
    today = datetime.now(UTC).date()
    by_language: dict[int, int] = {}
    by_status: dict[int, int] = {}
    by_day: dict[date, int] = {}
    with context().sessions() as session:
        rows = repo.token_statistics(session)
        size = repo.database_size(session)
    for sub in rows:
        jid = judge0.language_id(sub)
        if jid is not None:
            by_language[jid] = by_language.get(jid, 0) + 1
        sid = judge0.status_id(sub)
        by_status[sid] = by_status.get(sid, 0) + 1
        if sub.created_at is not None:
            day = sub.created_at.date()
            by_day[day] = by_day.get(day, 0) + 1
    now = datetime.now(UTC).isoformat()
    return {
        "created_at": now,
        "cached_until": now,
        "submissions": {
            "total": len(rows),
            "today": by_day.get(today, 0),
            "last_30_days": {
                str(today - timedelta(days=d)): by_day.get(today - timedelta(days=d), 0) for d in range(1, 31)
            },
        },
        "languages": [
            {"language": {"id": j, "name": judge0.LANGUAGES[j].name}, "count": n}
            for j, n in sorted(by_language.items(), key=lambda item: -item[1])
        ],
        "statuses": [
            {"status": {"id": i, "name": judge0.STATUSES[i]}, "count": n}
            for i, n in sorted(by_status.items(), key=lambda item: -item[1])
        ],
        "database": {"size_pretty": _size_pretty(size), "size_in_bytes": size},
    }


@blueprint.get("/workers", strict_slashes=False)
def get_workers() -> tuple[Any, int]:
    ctx = context()
    lengths = queue.queue_lengths(ctx.redis)
    alive = workers.workers(ctx.redis)
    with ctx.sessions() as session:
        running = repo.count_in_states(session, [SubmissionState.COMPILING, SubmissionState.RUNNING])
    total = sum(int(w.get("concurrency", 0)) for w in alive)
    return [
        {
            "queue": name,
            "size": size,
            "available": total,
            "idle": max(0, total - running),
            "working": running,
            "paused": 0,
            "failed": 0,
        }
        for name, size in sorted(lengths.items())
    ] or [
        {
            "queue": queue.SERVICE_QUEUE,
            "size": 0,
            "available": total,
            "idle": max(0, total - running),
            "working": running,
            "paused": 0,
            "failed": 0,
        }
    ], 200


@blueprint.delete("/submissions/<token>", strict_slashes=False)
def delete_submission(token: str) -> tuple[Any, int]:
    """Judge0's default (ENABLE_SUBMISSION_DELETE=false): submissions are kept."""
    _user()
    return {"error": "delete not allowed"}, 400


@blueprint.post("/authenticate", strict_slashes=False)
def authenticate() -> tuple[Any, int]:
    _user()
    return {}, 200


@blueprint.post("/authorize", strict_slashes=False)
def authorize() -> tuple[Any, int]:
    if _admin() is None:
        return {"error": "authorization failed"}, 403
    return {}, 200
