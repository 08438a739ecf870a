"""The demo as a person uses it: Debian's Chromium driven by Playwright against the example project.

The example project runs in its own process (``manage.py runserver`` on a free port, a temporary
SQLite file, the issuer moved to that port), so the relying party reaches the provider over real
HTTP. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _chromium() -> str | None:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    return found if os.access(found, os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    if executable is None:
        pytest.skip("Chromium not found (apt-get install chromium): browser tests skipped")
    with sync_playwright() as p:
        try:
            instance = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            pytest.skip(f"Chromium at {executable} could not be launched: {str(exc).splitlines()[0]}")
        expect.set_options(timeout=15_000)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def site(browser):
    """The example project on a free port with a fresh database; yields its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DEMO_DB": os.path.join(tmp, "demo.sqlite3"),
        "OIDC_ISSUER": f"{base}/o",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v0"], ["oidc_demo_setup"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    log = open(os.path.join(tmp, "server.log"), "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/o/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(Path(log.name).read_text()[-2000:])
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in_at_rp(page, base: str, *, with_password: bool) -> str:
    """From the RP page through login (if needed) and consent back to the RP; returns the ID token kid."""
    if with_password:
        page.goto(f"{base}/rp/")
        page.get_by_role("link", name="Sign in with the demo provider").click()
    else:
        page.get_by_role("link", name="Sign in again").click()
    if with_password:
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        _shot(page, "02-login")
        page.get_by_label("Username").fill("demo")
        page.get_by_label("Password").fill("demo-password-123")
        page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_role("heading", name="Allow Demo confidential client to use your account?")
    ).to_be_visible()
    scopes = page.locator("ul.scopes li").all_inner_texts()
    assert scopes == [
        "Sign you in with your account",
        "See your name and username",
        "See your email address",
        "Read your data through the API",
    ]
    if with_password:
        _shot(page, "03-consent")
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="Demo relying party")).to_be_visible()
    expect(page.locator("#api-status")).to_have_text("HTTP 200")
    expect(page.locator(".verdict.ok")).to_have_count(2)
    header = page.locator(".jwt-header").first.inner_text()
    return header.split('"kid": "')[1].split('"')[0]


def test_sign_in_rotate_keys_inspect_and_sign_out(browser, site):
    user = browser.new_context(viewport={"width": 1280, "height": 900})
    page = user.new_page()
    page.goto(f"{site}/rp/")
    expect(page.get_by_role("heading", name="Not signed in")).to_be_visible()
    _shot(page, "01-rp-signed-out")

    first_kid = _sign_in_at_rp(page, site, with_password=True)
    assert '"username": "demo"' in page.locator("#api-body").inner_text()
    expect(page.get_by_role("timer").first).to_contain_text("expires in")
    _shot(page, "04-rp-signed-in")

    # The admin rotates the RS256 key from the keys screen, through the confirmation page.
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.goto(f"{site}/admin/oidc_provider/signingkey/")
    admin.get_by_label("Username").fill("admin")
    admin.get_by_label("Password").fill("admin-password-123")
    admin.get_by_role("button", name="Log in").click()
    row = admin.locator("#result_list tbody tr", has_text=first_kid)
    expect(row).to_contain_text("active")
    _shot(admin, "05-keys")
    row.locator("input.action-select").check()
    admin.locator("select[name=action]").select_option("rotate_now")
    admin.get_by_role("button", name="Go").click()
    expect(admin.get_by_role("heading", name="Rotate signing keys")).to_be_visible()
    _shot(admin, "06-rotate-confirm")
    admin.get_by_role("button", name="Yes, I'm sure").click()
    expect(admin.locator(".messagelist")).to_contain_text("RS256:")
    expect(admin.locator("#result_list tbody tr", has_text=first_kid)).to_contain_text("retired")

    # The token signed by the retired key still works; a new sign-in is signed by the new key.
    page.get_by_role("button", name="Call the API again").click()
    expect(page.locator("#api-status")).to_have_text("HTTP 200")
    second_kid = _sign_in_at_rp(page, site, with_password=False)
    assert second_kid != first_kid
    _shot(page, "07-rp-after-rotation")

    # The inspector: paste an access token, see the verdict and every check.
    token = requests.post(
        f"{site}/o/token/",
        data={"grant_type": "client_credentials", "scope": "read"},
        auth=("demo-service", "demo-service-Jc5Fg8Lq2Tw7Np3Xr6Mh9Db4Kz"),
        timeout=10,
    ).json()["access_token"]
    admin.goto(f"{site}/admin/oidc_provider/signingkey/")
    admin.get_by_role("link", name="Inspect a token").click()
    admin.get_by_label("Token").fill(token)
    admin.get_by_role("button", name="Inspect").click()
    expect(admin.locator("#verdict")).to_have_text("Valid: access token (RFC 9068)")
    expect(admin.locator("#checks tbody tr")).to_have_count(9)
    expect(admin.locator("#key")).to_contain_text(second_kid)
    expect(admin.locator("#key")).to_contain_text("active")
    assert admin.get_by_label("Token").input_value() == ""
    _shot(admin, "08-inspector")

    # RP-initiated logout ends both sessions and comes back to the RP.
    page.get_by_role("button", name="Sign out").click()
    if page.get_by_role("heading", name="Sign out of Demo confidential client?").is_visible():
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Not signed in")).to_be_visible()
    page.goto(f"{site}/rp/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # the provider forgot us too
    user.close()


def test_login_and_consent_fit_a_phone_screen(browser, site):
    page = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=1).new_page()
    page.goto(f"{site}/rp/login")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password-123")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # no horizontal scrolling
    _shot(page, "09-consent-phone")
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("access_denied")


def test_signing_out_of_one_rp_signs_out_of_the_other(browser, site):
    """Back-channel logout: the provider tells the second RP, which ends its own session."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _sign_in_at_rp(page, site, with_password=True)
    page.goto(f"{site}/rp2/")
    expect(page.get_by_role("heading", name="Second demo relying party")).to_be_visible()
    page.get_by_role("link", name="Sign in with the demo provider").click()
    # Already signed in at the provider: only the second client's consent.
    expect(page.get_by_role("heading", name="Allow Second demo client to use your account?")).to_be_visible()
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("#api-status")).to_have_text("HTTP 200")
    _shot(page, "10-rp2-signed-in")

    page.goto(f"{site}/rp/")
    page.get_by_role("button", name="Sign out").click()
    confirm = page.get_by_role("heading", name="Sign out of Demo confidential client?")
    signed_out = page.get_by_role("heading", name="Not signed in")
    confirm.or_(signed_out).wait_for()
    if confirm.is_visible():
        page.get_by_role("button", name="Sign out").click()
    expect(signed_out).to_be_visible()
    expect(page.get_by_role("status")).to_have_count(0)  # this RP signed out by itself

    page.goto(f"{site}/rp2/")
    expect(page.get_by_role("heading", name="Not signed in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Signed out by the provider.")
    _shot(page, "11-rp2-signed-out-by-provider")


def test_signing_key_list_fits_a_1280_px_screen(browser, site):
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{site}/admin/oidc_provider/signingkey/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin-password-123")
    page.get_by_role("button", name="Log in").click()
    # Rotate every algorithm so the list has retired keys with a "published until" date.
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("rotate_now")
    page.get_by_role("button", name="Go").click()
    page.get_by_role("button", name="Yes, I'm sure").click()
    expect(page.locator("#result_list tbody tr", has_text="retired").first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the key list is {width} px wide"
    header = page.locator("#result_list thead th.column-published_until")
    expect(header).to_contain_text("Published until")
    # Nothing is clipped or scrolled inside the results box either.
    results = page.evaluate(
        "(() => { const r = document.querySelector('#changelist .results');"
        " return [r.scrollWidth, r.clientWidth]; })()"
    )
    assert results[0] <= results[1], f"the key table needs {results[0]} px, has {results[1]}"
    box, frame = header.bounding_box(), page.locator("#changelist .results").bounding_box()
    assert box["x"] + box["width"] <= frame["x"] + frame["width"]
    _shot(page, "12-keys-1280")
