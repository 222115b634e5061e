"""The taker page and the proctor view are shells behind the login; their scripts are served."""

from __future__ import annotations

import uuid


def test_exam_pages_need_a_login_and_carry_no_data(bio, db_url):
    exam = uuid.uuid4()
    r = bio.client.get(f"/exams/{exam}/take", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == f"/login?next=/exams/{exam}/take"
    person, _ = bio.person()
    take = bio.client.get(f"/exams/{exam}/take", headers=bio.headers(person))
    assert take.status_code == 200 and "Онлайн-аттестация" in take.text
    assert f'data-exam-id="{exam}"' in take.text and "/static/biometrics/exam_take.js" in take.text
    view = bio.client.get(f"/exams/{exam}/proctor", headers=bio.headers(person))
    assert view.status_code == 200 and "Сессия аттестации" in view.text
    for script in ("exam_take.js", "exam_proctor.js"):
        js = bio.client.get(f"/static/biometrics/{script}")
        assert js.status_code == 200 and "/api/v1/exams/sessions/" in js.text
    assert bio.client.get("/static/site.css").status_code == 200  # the kernel's mount still works
