from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "zh", "en"),
    [
        ("/", "欢迎来到榕树", "Welcome to rongshu"),
        ("/console/", "员工工作台", "Staff console"),
        ("/partners/", "合作伙伴门户", "Partner portal"),
    ],
)
def test_portals_in_both_languages(client: Client, path: str, zh: str, en: str) -> None:
    chinese = client.get(path).content.decode()  # zh-Hans is the default
    assert zh in chinese and '<html lang="zh-Hans">' in chinese
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert en in english and '<html lang="en">' in english


def test_language_switcher_sets_the_language(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert "Staff console" in client.get("/console/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "欢迎来到榕树" in client.get("/").content.decode()


def test_current_portal_is_marked(client: Client) -> None:
    page = client.get("/partners/").content.decode()
    assert 'href="/partners/" aria-current="page"' in page
    assert 'class="portal-partners"' in page


@pytest.mark.parametrize(("lang", "text"), [("zh-hans", "页面不存在"), ("en", "Page not found")])
def test_friendly_404_in_the_users_language(client: Client, lang: str, text: str) -> None:
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 404
    assert text in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_friendly_500_page() -> None:
    from django.test import RequestFactory
    from django.utils import translation

    from rongshu.web import views

    request = RequestFactory().get("/boom")
    with translation.override("zh-hans"):
        response = views.server_error(request)
    assert response.status_code == 500 and "出错了" in response.content.decode()
    assert views.bad_request(request).status_code == 400
    assert views.permission_denied(request).status_code == 403
    api_request = RequestFactory().get("/api/v1/x")
    assert views.server_error(api_request)["Content-Type"] == "application/problem+json"


def test_csrf_failure_on_a_form_is_a_friendly_403() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "en"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403


def test_static_files_are_found() -> None:
    from django.contrib.staticfiles import finders

    assert finders.find("rongshu/app.css")
