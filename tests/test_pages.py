"""Pages without a browser: HTML content, escaping, CSRF and origin checks."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from bulkgen.http.pages import FORM_DEFAULTS, parse_form
from bulkgen.models import BatchConfig

from helpers.api import BATCHES, batch_body
from helpers.fake_openai import FakeOpenAI
from helpers.server import LiveServer
from helpers.wait import wait_finished

NEW = "/faculty/generate/batch/new"


def form_values(**overrides: str) -> dict[str, str]:
    values = {
        "topic": "Renal physiology",
        "title": "",
        "item_type": "mcq",
        "count": "5",
        "difficulty": "hard",
        "generator": "demo",
        "concurrency": "2",
        "seed": "3",
        "latency_min": "5",
        "latency_max": "20",
        "fail_rate": "0",
        "invalid_rate": "0",
        "markup_rate": "0",
    }
    values.update(overrides)
    return values


def csrf_token(http: httpx.Client) -> str:
    page = http.get(NEW)
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the form carries a token"
    assert http.cookies.get("bulkgen_csrf") == match.group(1)
    return match.group(1)


def test_root_leads_to_the_history(client: httpx.Client) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/faculty/generate/batch"


def test_history_lists_batches_newest_first_with_escaped_titles(client: httpx.Client) -> None:
    first = client.post(BATCHES, json=batch_body(title="Week 1 quiz")).json()
    second = client.post(BATCHES, json=batch_body(title="<script>alert(1)</script>")).json()
    html = client.get("/faculty/generate/batch").text
    assert html.index(second["id"]) < html.index(first["id"])
    assert f'href="/faculty/generate/batch/{first["id"]}"' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'role="progressbar"' in html


def test_history_of_a_new_user_is_empty_with_a_way_to_start(client: httpx.Client) -> None:
    html = client.get("/faculty/generate/batch").text
    assert "No batches yet" in html
    assert f'href="{NEW}"' in html


def test_form_post_with_a_valid_token_creates_and_redirects(client: httpx.Client) -> None:
    token = csrf_token(client)
    response = client.post(NEW, data={**form_values(), "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    batch_id = location.rsplit("/", 1)[-1]
    batch = client.get(f"{BATCHES}/{batch_id}").json()
    assert batch["config"]["topic"] == "Renal physiology"
    assert batch["config"]["difficulty"] == "hard"
    assert batch["config"]["generator_options"]["latency_ms"] == [5, 20]
    assert client.get(location).status_code == 200


def test_form_post_without_or_with_a_wrong_token_is_refused(client: httpx.Client) -> None:
    csrf_token(client)
    missing = client.post(NEW, data=form_values())
    assert missing.status_code == 403
    wrong = client.post(NEW, data={**form_values(), "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    assert "expired" in wrong.text
    assert client.get(BATCHES).json()["total"] == 0


def test_form_errors_are_shown_next_to_each_field(client: httpx.Client) -> None:
    token = csrf_token(client)
    response = client.post(
        NEW,
        data={
            **form_values(topic="", count="0", concurrency="65", fail_rate="2", latency_max="x"),
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    html = response.text
    assert 'data-error-for="latency_max"' in html  # not a number: reported before bounds
    response = client.post(
        NEW,
        data={
            **form_values(topic="", count="0", concurrency="65", fail_rate="2"),
            "csrf_token": token,
        },
    )
    html = response.text
    for field in ("topic", "count", "concurrency", "fail_rate"):
        assert f'data-error-for="{field}"' in html, field
        assert f'id="{field}"' in html and f'aria-describedby="{field}-error"' in html
    assert 'value="65"' in html  # what the user typed is kept
    assert client.get(BATCHES).json()["total"] == 0


def test_form_latency_order_error_names_the_field(client: httpx.Client) -> None:
    token = csrf_token(client)
    response = client.post(
        NEW, data={**form_values(latency_min="500", latency_max="100"), "csrf_token": token}
    )
    assert response.status_code == 422
    assert 'data-error-for="latency_max"' in response.text


def test_cross_site_writes_to_the_api_are_refused(client: httpx.Client) -> None:
    evil = client.post(BATCHES, json=batch_body(), headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403
    fetch_meta = client.post(BATCHES, json=batch_body(), headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch_meta.status_code == 403
    host = client.base_url.netloc.decode()
    same = client.post(BATCHES, json=batch_body(), headers={"Origin": f"http://{host}"})
    assert same.status_code == 201
    assert client.post(BATCHES, json=batch_body()).status_code == 201  # curl sends no Origin
    assert client.get(BATCHES, headers={"Origin": "http://evil.example"}).status_code == 200


def test_progress_page_renders_state_escaped_and_subscribes_after_it(
    client: httpx.Client,
) -> None:
    batch = client.post(
        BATCHES, json=batch_body(count=6, generator_options={"markup_rate": 1.0})
    ).json()
    final = wait_finished(client, batch["id"])
    html = client.get(f"/faculty/generate/batch/{batch['id']}").text
    assert "<img src=x" not in html and "<script>alert(" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert str(final["last_event_id"]) in html
    assert 'role="progressbar"' in html


def test_progress_page_of_an_unknown_or_foreign_batch_is_404(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(user_header="X-User")
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch = http.post(BATCHES, json=batch_body(), headers={"X-User": "ada"}).json()
        other = http.get(f"/faculty/generate/batch/{batch['id']}", headers={"X-User": "bob"})
        assert other.status_code == 404
        assert "Batch not found" in other.text
        mine = http.get(f"/faculty/generate/batch/{batch['id']}", headers={"X-User": "ada"})
        assert mine.status_code == 200


def test_static_assets_are_served_by_bulkgen(client: httpx.Client) -> None:
    css = client.get("/static/css/bulkgen.css")
    assert css.status_code == 200 and "--status-success" in css.text
    js = client.get("/static/js/history-view.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    page = client.get("/faculty/generate/batch").text
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org", "")


def test_the_form_offers_openai_only_with_a_key(make_server: Callable[..., LiveServer]) -> None:
    plain = make_server()
    with httpx.Client(base_url=plain.url, timeout=60) as http:
        html = http.get(NEW).text
        assert '<option value="openai"' not in html
        assert 'data-generator="openai"' not in html
        token = csrf_token(http)
        refused = http.post(NEW, data={**form_values(generator="openai"), "csrf_token": token})
        assert refused.status_code == 422
        assert 'data-error-for="generator"' in refused.text
    plain.stop()

    with FakeOpenAI() as fake:
        live = make_server(
            openai_base_url=fake.url + "/v1",
            openai_api_key="sk-form-test-0123456789",
            openai_model="served-model",
        )
        with httpx.Client(base_url=live.url, timeout=60) as http:
            html = http.get(NEW).text
            assert '<option value="openai"' in html
            assert 'data-generator="openai"' in html and "served-model" in html
            assert "sk-form-test" not in html
            token = csrf_token(http)
            openai = form_values(
                generator="openai",
                seed="not used",
                model="llama-x",
                temperature="5",
                requests_per_minute="30",
                learning_objective="Trace blood through the heart",
                count="2",
            )
            bad = http.post(NEW, data={**openai, "csrf_token": token})
            assert bad.status_code == 422
            assert 'data-error-for="temperature"' in bad.text
            assert 'value="llama-x"' in bad.text  # kept
            openai["temperature"] = "0.2"
            created = http.post(NEW, data={**openai, "csrf_token": token}, follow_redirects=False)
            assert created.status_code == 303, created.text
            batch_id = created.headers["location"].rsplit("/", 1)[-1]
            batch = wait_finished(http, batch_id)
            config = batch["config"]
            assert config["generator"] == "openai" and config["model"] == "llama-x"
            assert config["generator_options"] == {
                "learning_objective": "Trace blood through the heart",
                "temperature": 0.2,
                "requests_per_minute": 30,
                "max_tokens": 2048,  # the option's default: the form does not ask
                "review": {"enabled": True, "model": None},  # on unless unchecked
            }
            assert config["early_stop"]["enabled"] is True
            assert batch["status"] == "completed"
            assert len(fake.review_requests) == 2


def test_the_blind_review_box_of_the_form_and_its_json_equivalent(
    make_server: Callable[..., LiveServer],
) -> None:
    """What the browser sends: the hidden "off", then "on" when the box is checked."""
    openai = form_values(generator="openai", temperature="0.7", model="", count="1")
    checked = parse_form({**FORM_DEFAULTS, **openai, "review_model": "judge-model"})[0]
    unchecked = parse_form({**FORM_DEFAULTS, **openai, "review": "off"})[0]
    api = {
        "topic": "Renal physiology",
        "count": 1,
        "difficulty": "hard",
        "concurrency": 2,
        "generator": "openai",
        "generator_options": {"review": {"model": "judge-model"}},
    }
    assert checked == BatchConfig.model_validate(api)
    api["generator_options"] = {"review": {"enabled": False}}
    assert unchecked == BatchConfig.model_validate(api)
    assert unchecked is not None and not unchecked.generator_options.reviewing  # type: ignore[union-attr]

    with FakeOpenAI() as fake:
        live = make_server(openai_base_url=fake.url + "/v1", openai_api_key="sk-form-review")
        with httpx.Client(base_url=live.url, timeout=60) as http:
            html = http.get(NEW).text
            assert re.search(
                r'<input id="review" name="review" type="checkbox" value="on" checked', html
            )
            token = csrf_token(http)
            bad = http.post(
                NEW,
                data={
                    **openai,
                    "review": ["off", "on"],
                    "review_model": "m" * 201,
                    "csrf_token": token,
                },
            )
            assert bad.status_code == 422
            assert 'data-error-for="review_model"' in bad.text
            assert 'data-error-for="model"' not in bad.text  # the batch's model is not blamed
            off = http.post(
                NEW, data={**openai, "review": "off", "csrf_token": token}, follow_redirects=False
            )
            assert off.status_code == 303, off.text
            batch = wait_finished(http, off.headers["location"].rsplit("/", 1)[-1])
            assert batch["config"]["generator_options"]["review"] == {
                "enabled": False,
                "model": None,
            }
            assert (
                'id="review" name="review" type="checkbox" value="on" checked'
                not in http.post(
                    NEW, data={**openai, "review": "off", "count": "0", "csrf_token": token}
                ).text
            )  # a refused form keeps the box as it was sent
        assert fake.review_requests == []
        assert len(fake.generation_requests) == 1
