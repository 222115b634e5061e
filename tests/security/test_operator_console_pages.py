"""The operator staff's console over real HTTP, logged in through the ESIA simulator (the
pages' login cookie): a page on another site posts the console's acts with the staff member's
cookie — no CSRF token, or another origin — and nothing changes; a school director and the
organisation's own staff member in another organisation's console are refused.
"""

from __future__ import annotations

import uuid
from contextlib import closing

from consent import parties
from consent.demo import TEMPLATE_KEY
from consent.demo import seed as seed_consent
from consent.models import WithdrawalAck
from consent.templates import latest_template
from idp import demo as idp_demo
from propusk.db import session_scope
from propusk.demo_operator import seed_operator_console
from tests.browsing import cabinet, origin_of

STAFF = "1000400026"  # ESIA /roles: employee of 1000500002 (ГБУ ТО «РЦЦО»)
SCHOOL_DIRECTOR = "1000400001"


def _operator(rt) -> uuid.UUID:
    """The simulator's operator with its consent profile and the console's demo withdrawals."""
    with session_scope(rt.sessionmaker) as s:
        ids = idp_demo.seed(s, rt.settings)
        seed_consent(s, ids)
        operator = parties.get(s, ids["1000500002"])
        template = latest_template(s, operator, TEMPLATE_KEY)
        seed_operator_console(s, rt.settings, operator, template)
        return operator.id


def test_a_form_posted_from_another_site_changes_nothing_in_the_console(sim_server):
    url, rt = sim_server
    org_id = _operator(rt)
    base = f"/api/v1/operators/{org_id}"
    evil = {"Origin": "https://evil.example"}
    with closing(cabinet(url, STAFF)) as browser:
        feed = browser.get(f"{base}/withdrawals").json()["withdrawals"]
        event = next(w for w in feed if w["subject_name"].startswith("Орлов"))
        tasks = browser.get(f"{base}/destruction?open=false").json()["tasks"]
        task = next(t for t in tasks if t["subject_name"].startswith("Кузнецова"))
        versions = len(browser.get(f"{base}/templates").json()["templates"])
        token = browser.headers.pop("X-CSRF-Token")
        browser.headers.pop("Origin")
        acts = {
            "acknowledge": (f"{base}/withdrawals/{event['id']}/acknowledge", None),
            "confirm": (f"{base}/destruction/{task['id']}/confirm", None),
            "defer": (f"{base}/destruction/{task['id']}/impossible", {"reason": "подделка"}),
            "publish": (f"{base}/templates", {"key": "attestation.consent", "text": "x"}),
            "appoint": (f"/api/v1/organizations/{org_id}/staff", {"snils": "123-456-789 64"}),
        }
        for name, (path, body) in acts.items():
            no_token = browser.post(path, json=body, headers=evil)
            same_site_no_token = browser.post(path, json=body, headers={"Origin": origin_of(url)})
            foreign = browser.post(path, json=body, headers={**evil, "X-CSRF-Token": token})
            for r in (no_token, same_site_no_token, foreign):
                assert r.status_code == 403, (name, r.status_code, r.text[:300])
        # a script on another origin cannot read the console's answers: no CORS grant
        read = browser.get(f"{base}/withdrawals", headers=evil)
        assert "access-control-allow-origin" not in read.headers
        after = browser.get(f"{base}/destruction?open=false").json()["tasks"]
        assert next(t for t in after if t["id"] == task["id"]) == task
        assert len(browser.get(f"{base}/templates").json()["templates"]) == versions
        with session_scope(rt.sessionmaker) as s:
            ack = s.get(WithdrawalAck, uuid.UUID(event["id"]))
            assert (ack is None) == (event["acknowledged_at"] is None)
        # the page's own request (token, same origin) is what passes
        path = acts["acknowledge"][0]
        own = browser.post(path, headers={"Origin": origin_of(url), "X-CSRF-Token": token})
        assert own.status_code == (409 if event["acknowledged_at"] else 200), own.text


def test_the_console_refuses_a_school_director_and_another_organisation(sim_server):
    url, rt = sim_server
    org_id = _operator(rt)
    with closing(cabinet(url, SCHOOL_DIRECTOR)) as browser:
        for path in ("", "/withdrawals", "/destruction", "/consents", "/templates"):
            r = browser.get(f"/api/v1/operators/{org_id}{path}")
            assert r.status_code == 403, (path, r.text)
            assert "Кузнецова" not in r.text
    with closing(cabinet(url, STAFF)) as browser:
        assert browser.get(f"/api/v1/operators/{org_id}").status_code == 200
        other = uuid.uuid4()
        for path in ("", "/withdrawals", "/destruction"):
            assert browser.get(f"/api/v1/operators/{other}{path}").status_code == 403
        page = browser.get(f"/operator/{org_id}")
        assert page.status_code == 200 and "Консоль оператора" in page.text
