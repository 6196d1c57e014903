"""The web pages: server-rendered HTML with a little JavaScript, on the same service as the API.

* auth.py        log in and out (flask-login, a signed session cookie), who may see what
* contestant.py  problems with statements and samples, the submit form, submissions updating
                 live, contests and their scoreboards
* organiser.py   packages and their reports, batches filling in live, rejudging, the queue and
                 the workers, contests, accounts (one by one or from a CSV)

Forms carry a CSRF token (flask-wtf); a refused form comes back with what was typed and why.
Every page is sent with a Content-Security-Policy that allows only this site's own scripts,
styles and images: a package's statement cannot run script even if sanitising missed something.
"""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("pages", __name__)

from web.pages import auth, contestant, organiser  # noqa: E402, F401
