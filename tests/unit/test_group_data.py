"""group_data/: all.py, proxy.py, web.py, client.py read as pyinfra reads them, checked like the
site's data:, and ranked below the site file; --data for a hastack key refused by the inventory."""

import runpy
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from hastack.defaults import DEFAULTS, ROOT
from hastack.pyinfra_args import option_values
from hastack.site import SiteError, dump_site, load_site, read_group_data


@pytest.fixture
def work(tmp_path, monkeypatch):
    """An empty working folder (so the checkout's folder is the only other group_data)."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def write_site(folder: Path, fixtures: Path, data=None, web1_data=None) -> Path:
    document = yaml.safe_load((fixtures / "good_site.yaml").read_text())
    if data:
        document["data"] = data
    if web1_data:
        document["hosts"]["web1"]["data"] = web1_data
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def group_file(folder: Path, group: str, text: str) -> Path:
    (folder / "group_data").mkdir(parents=True, exist_ok=True)
    path = folder / "group_data" / f"{group}.py"
    path.write_text(text)
    return path


def problems(site: Path, folders=None) -> list[tuple[str, str]]:
    with pytest.raises(SiteError) as caught:
        load_site(site, folders)
    return [(problem.path, str(problem)) for problem in caught.value.problems]


def web_port_of(site) -> tuple:
    return (
        site.setting("web_port", site.hosts["web1"]),
        site.setting("web_port", site.hosts["web2"]),
        site.setting("web_port"),
        site.host_data(site.hosts["web1"])["web_port"],
    )


def test_five_layers_in_order(work, fixtures):
    seen = [web_port_of(load_site(write_site(work, fixtures)))]
    group_file(work, "all", "web_port = 8001\n")
    seen.append(web_port_of(load_site(write_site(work, fixtures))))
    group_file(work, "web", "web_port = 8002\n")
    seen.append(web_port_of(load_site(write_site(work, fixtures))))
    seen.append(web_port_of(load_site(write_site(work, fixtures, {"web_port": 8003}))))
    seen.append(web_port_of(load_site(write_site(work, fixtures, {"web_port": 8003}, {"web_port": 8004}))))
    assert seen == [
        (DEFAULTS["web_port"], DEFAULTS["web_port"], DEFAULTS["web_port"], DEFAULTS["web_port"]),
        (8001, 8001, 8001, 8001),
        (8002, 8002, 8001, 8002),
        (8003, 8003, 8003, 8003),
        (8004, 8003, 8003, 8004),
    ]


def test_a_role_file_reaches_its_role_only(work, fixtures):
    group_file(work, "proxy", "haproxy_retries = 7\n")
    site = load_site(write_site(work, fixtures))
    assert (
        site.host_data(site.hosts["proxy1"])["haproxy_retries"],
        site.host_data(site.hosts["web1"])["haproxy_retries"],
        site.group_data,
    ) == (7, DEFAULTS["haproxy_retries"], {"proxy": {"haproxy_retries": 7}})


def test_a_bad_value_in_web_py_names_the_file(work, fixtures):
    group_file(work, "web", "web_port = 0\n")
    found = problems(write_site(work, fixtures))
    assert found == [
        (
            "group_data/web.py: web_port",
            "group_data/web.py: web_port: 0 is not a TCP/UDP port. Fix: give a port from 1 to 65535.",
        )
    ]


def test_a_value_of_the_wrong_type_is_refused(work, fixtures):
    group_file(work, "all", 'web_port = "8081"\n')
    assert [path for path, _ in problems(write_site(work, fixtures))] == ["group_data/all.py: web_port"]


def test_cross_key_rules_see_group_values_and_name_file_and_host(work, fixtures):
    group_file(work, "web", "web_port = 24007\n")
    with pytest.raises(SiteError) as caught:
        load_site(write_site(work, fixtures))
    assert sorted((p.path, p.host) for p in caught.value.problems) == [
        ("group_data/web.py: web_port", "web1"),
        ("group_data/web.py: web_port", "web2"),
    ]


def test_the_arbiter_is_not_set_for_one_role(work, fixtures):
    group_file(work, "proxy", 'gluster_arbiter = "proxy1"\n')
    assert "group_data/proxy.py: gluster_arbiter" in dict(problems(write_site(work, fixtures)))


@pytest.mark.parametrize("key, value", [("monitoring_enabled", "True"), ("gluster_quorum_type", '"none"')])
def test_a_cluster_wide_key_is_not_set_for_one_role(work, fixtures, key, value):
    """The tools read these without a host (verify: is there monitoring?; the volume's options):
    a role's value would be deployed and never checked."""
    group_file(work, "web", f"{key} = {value}\n")
    assert f"group_data/web.py: {key}" in dict(problems(write_site(work, fixtures)))


@pytest.mark.parametrize("group", ["all", "web"])
def test_raid_force_in_group_data_is_refused_naming_the_file_and_the_fix(work, fixtures, group):
    """It would wipe the disks of every web host that joins later: one host's entry only."""
    group_file(work, group, "raid_force = True\n")
    found = dict(problems(write_site(work, fixtures)))
    said = found[f"group_data/{group}.py: raid_force"]
    assert "hosts.<name>.data.raid_force" in said, said


def test_an_unknown_key_gets_a_guess(work, fixtures):
    group_file(work, "web", "web_prot = 8081\n")
    assert problems(write_site(work, fixtures)) == [
        (
            "group_data/web.py: web_prot",
            "group_data/web.py: web_prot: unknown data key. Fix: did you mean 'web_port'?.",
        )
    ]


@pytest.mark.parametrize("line", ["ssh_user = 'deploy'", "_sudo = True", "ssh_port = 2222"])
def test_pyinfra_connection_keys_are_refused(work, fixtures, line):
    group_file(work, "all", f"{line}\n")
    found = problems(write_site(work, fixtures))
    key = line.split(" ")[0]
    assert [(path, "site file's 'ssh:' section" in text) for path, text in found] == [
        (f"group_data/all.py: {key}", True)
    ]


def test_imports_dunders_and_modules_are_not_data(work, fixtures):
    group_file(work, "web", "import os\nfrom pathlib import Path\n__doc__ = 'x'\nweb_port = 8081\n")
    assert load_site(write_site(work, fixtures)).group_data == {"web": {"web_port": 8081}}


def test_an_unknown_group_file_is_refused(work, fixtures):
    group_file(work, "monitoring", "web_port = 8081\n")
    (work / "group_data" / "web.yaml").write_text("web_port: 8081\n")
    found = problems(write_site(work, fixtures))
    assert [(path, "the groups are all, proxy, web, client" in text) for path, text in found] == [
        ("group_data/monitoring.py", True),
        ("group_data/web.yaml", True),
    ]


def test_a_file_that_does_not_run_is_refused(work, fixtures):
    group_file(work, "web", "web_port = \n")
    assert [path for path, _ in problems(write_site(work, fixtures))] == ["group_data/web.py"]


def test_the_working_folder_is_read_by_default(work, fixtures):
    group_file(work, "web", "web_port = 8081\n")
    site = load_site(write_site(work, fixtures))
    assert (site.setting("web_port", site.hosts["web1"]), [f.path for f in site.group_files]) == (
        8081,
        ["group_data/web.py"],
    )


def test_a_later_folder_wins(tmp_path, work):
    group_file(tmp_path / "a", "web", "web_port = 8081\nweb_keepalive_timeout = 7\n")
    group_file(tmp_path / "b", "web", "web_port = 8082\n")
    data = read_group_data([tmp_path / "a" / "group_data", tmp_path / "b" / "group_data"])
    assert [(f.group, f.values) for f in data.files] == [
        ("web", {"web_port": 8081, "web_keepalive_timeout": 7}),
        ("web", {"web_port": 8082}),
    ]


def test_a_folder_given_twice_counts_at_its_last_place(tmp_path, work):
    """pyinfra reads it twice: its values win over the folder between."""
    a, b = group_file(tmp_path / "a", "web", "web_port = 8081\n"), group_file(tmp_path / "b", "web", "")
    data = read_group_data([a.parent, b.parent, a.parent])
    assert [f.path for f in data.files] == [str(b), str(a)]


def test_a_missing_folder_is_no_group_data(tmp_path, work):
    assert read_group_data([tmp_path / "nowhere"]).files == ()


def test_a_derived_site_keeps_group_data_apart(work, fixtures):
    group_file(work, "web", "web_port = 8081\n")
    site = load_site(write_site(work, fixtures))
    document = site.document()
    (work / "derived.yaml").write_text(dump_site(document))
    again = load_site(work / "derived.yaml")
    assert ("web_port" in document["data"], again.setting("web_port", again.hosts["web2"])) == (False, 8081)


# --- inventory.py, inside pyinfra's process: its folders, its --data -----------------------------


def run_inventory(monkeypatch, site: Path, argv: list[str], inventory: Path = ROOT / "inventory.py"):
    monkeypatch.setenv("HASTACK_SITE", str(site))
    monkeypatch.setattr(sys, "argv", ["pyinfra", str(inventory), "deploys/all.py", *argv])
    return runpy.run_path(str(inventory))


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["--data", "web_port=1"], "web_port"),
        (["--data=web_port=1"], "web_port"),
        (["--data", "site_role=x"], "site_role"),
    ],
)
def test_inventory_refuses_data_for_a_hastack_key(work, fixtures, monkeypatch, capsys, argv, key):
    with pytest.raises(SystemExit) as caught:
        run_inventory(monkeypatch, write_site(work, fixtures), argv)
    err = capsys.readouterr().err
    assert (caught.value.code, f"{key} is " in err, "Fix: " in err) == (2, True, True), err


def test_inventory_passes_other_data(work, fixtures, monkeypatch):
    inventory = run_inventory(monkeypatch, write_site(work, fixtures), ["--data", "other=1", "--data=x=2"])
    assert [name for name, _ in inventory["web"]] == ["web1", "web2"]


def test_inventory_reads_cwd_then_its_folder_then_group_data_options(tmp_path, work, fixtures, monkeypatch):
    folder = tmp_path / "checkout"
    folder.mkdir()
    shutil.copy(ROOT / "inventory.py", folder / "inventory.py")
    group_file(work, "web", "web_port = 8081\nweb_keepalive_timeout = 7\n")
    group_file(folder, "web", "web_port = 8082\nweb_image_archive = '/srv/nginx.tar'\n")
    group_file(tmp_path / "extra", "web", "web_image_archive = '/srv/other.tar'\n")
    site = write_site(work, fixtures)
    seen = []
    for argv in ([], ["--group-data", str(tmp_path / "extra" / "group_data")]):
        web = dict(run_inventory(monkeypatch, site, argv, folder / "inventory.py")["web"])["web1"]
        seen.append((web["web_port"], web["web_keepalive_timeout"], web["web_image_archive"]))
    assert seen == [(8082, 7, "/srv/nginx.tar"), (8082, 7, "/srv/other.tar")]


def test_option_values_in_both_forms():
    argv = ["inventory.py", "--data", "a=1", "--data=b=2", "--dry", "--", "--data", "c=3"]
    assert option_values(argv, "--data") == ["a=1", "b=2"]
