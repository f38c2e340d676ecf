"""``hastack screenshots``: what a person sees in Ganglia and Cacti, as PNG files.

Headless Chromium (Debian's ``chromium``), driven by Playwright (the ``shots``
extra), opens the pages through the VIP from the machine running hastack:
Ganglia's cluster page, then Cacti's graphs after logging in as admin with
the generated password (never printed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hastack import secrets
from hastack.site import Site

# Chromium in a closed network: no calls home, no sandbox as root (as the lab's tests run it).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ScreenshotError(RuntimeError):
    pass


def browser_path() -> str:
    path = shutil.which("chromium")
    if not path:
        raise ScreenshotError("no chromium here: apt-get install chromium (Debian's package)")
    return path


def take(site: Site, out_dir: Path, device: str) -> list[Path]:
    """Ganglia's cluster page and the Cacti graphs of one device; returns the files written."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ScreenshotError("Playwright is missing: .venv/bin/pip install -e '.[shots]'") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    base = site.url("").rstrip("/")
    ganglia, cacti = out_dir / "ganglia-cluster.png", out_dir / "cacti-graphs.png"
    with sync_playwright() as playwright:
        # The shop's name, whatever it resolves to here, to the VIP (as the probes: Site.shop_name).
        to_vip = [f"--host-resolver-rules=MAP {site.shop_name} {site.vip}"] if site.by_name else []
        browser = playwright.chromium.launch(executable_path=browser_path(), args=[*CHROMIUM_ARGS, *to_vip])
        # The site CA is not in Chromium's own store: the page, not the chain, is the subject here.
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, ignore_https_errors=True)
        answer = page.goto(f"{base}/ganglia/?c={site.cluster}&m=load_one&r=hour", wait_until="networkidle")
        if answer is not None and answer.status == 403:
            raise ScreenshotError(
                f"{base}/ganglia/ answers 403 to this machine: add its address to admin_web_networks, "
                "or take the screenshots through an SSH tunnel to a proxy (docs/https-and-firewall.md)"
            )
        page.screenshot(path=str(ganglia), full_page=True)

        page.goto(f"{base}/cacti/", wait_until="networkidle")
        page.fill("input[name=login_username]", "admin")
        page.fill("input[name=login_password]", secrets.password(site.cluster, "cacti_admin_password"))
        page.press("input[name=login_password]", "Enter")
        page.wait_for_load_state("networkidle")
        if page.locator("input[name=login_password]").count():
            raise ScreenshotError("Cacti refused the admin login (is the site deployed?)")
        # Cacti's device ids differ per install: ask its device search, as its filter box does.
        found = page.request.get(f"{base}/cacti/graph_view.php?action=ajax_hosts&term={device}").json()
        ids = {entry["label"]: entry["id"] for entry in found}
        if device not in ids:
            raise ScreenshotError(f"Cacti has no device {device!r}")
        page.goto(
            # Cacti's preset 3: the last two hours.
            f"{base}/cacti/graph_view.php?action=preview&host_id={ids[device]}&columns=2&graphs=12"
            "&predefined_timespan=3",
            wait_until="networkidle",
        )
        # Cacti scrolls inside its own frame: a tall window shows every graph.
        page.set_viewport_size({"width": 1280, "height": 2000})
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(cacti), full_page=True)
        browser.close()
    return [ganglia, cacti]
