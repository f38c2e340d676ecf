"""hastack.lab.hosts.images: a lab's images built side by side, each failure named with its image,
a defect raised as it is; no Docker here (the builds are stand-ins)."""

import threading
from types import SimpleNamespace

import pytest

from hastack.lab import hosts
from hastack.lab.common import LabError


@pytest.fixture
def builds(monkeypatch):
    """Stand-ins for the three builds: each waits for the others to start (side by side), then
    does what ``outcome`` says for its image."""
    outcome: dict = {}
    started = threading.Barrier(3, timeout=5)

    def build(name, value):
        started.wait()
        if isinstance(outcome.get(name), BaseException):
            raise outcome[name]
        return value

    monkeypatch.setattr(hosts, "ensure_docker", lambda: None)
    monkeypatch.setattr(hosts, "ensure_image", lambda release: build("base", f"base:{release}"))
    monkeypatch.setattr(hosts, "WEB_IMAGE", SimpleNamespace(ensure=lambda release: build("nginx", "n")))
    monkeypatch.setattr(hosts, "GANGLIA_IMAGE", SimpleNamespace(ensure=lambda release: build("ganglia", "g")))
    return outcome


def test_the_three_images_of_debian_13_are_built_side_by_side(builds):
    assert hosts.images(13) == "base:13"


def test_each_failed_build_is_named_after_all_ended(builds):
    builds["nginx"] = LabError("debootstrap (nginx) failed")
    builds["ganglia"] = LabError("docker import failed: no space")
    with pytest.raises(LabError) as raised:
        hosts.images(13)
    assert str(raised.value).splitlines() == [
        "the NGINX's image: debootstrap (nginx) failed",
        "the Ganglia's image: docker import failed: no space",
    ]


def test_a_defect_in_a_build_is_raised_as_it_is(builds):
    builds["base"] = TypeError("a bug")
    with pytest.raises(TypeError, match="a bug"):
        hosts.images(13)
