"""Monitoring: SNMPv3 on every host, Ganglia (unicast gmond, gmetad on the web hosts)."""

import re
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from hastack import secrets

SYS_NAME = ".1.3.6.1.2.1.1.5.0"


def own_address(site, name: str) -> str:
    addresses = site.hosts[name].addresses
    return str(addresses.get("back") or addresses["front"])


def host_name(host, site) -> str:
    address = host.backend.host.name
    return next(h.name for h in site.hosts.values() if h.connect_address == address)


def snmpget(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["snmpget", "-t", "2", "-r", "1", *args], text=True, capture_output=True, timeout=30
    )


def test_snmpd_running(host):
    assert host.service("snmpd").is_running


def test_snmpd_listens_only_on_its_own_address(host, site):
    sockets = host.check_output("ss -Hlnu 'sport = :161'").split("\n")
    assert [line.split()[3] for line in sockets] == [f"{own_address(site, host_name(host, site))}:161"]


def test_snmpv3_sysname_answers(host, site):
    name = host_name(host, site)
    auth = secrets.password(site.cluster, "snmp_auth_password")
    priv = secrets.password(site.cluster, "snmp_priv_password")
    result = snmpget(
        "-v3",
        "-l",
        "authPriv",
        "-u",
        "hastack",
        "-a",
        "SHA-256",
        "-A",
        auth,
        "-x",
        "AES",
        "-X",
        priv,
        own_address(site, name),
        SYS_NAME,
    )
    assert result.stdout.strip().endswith(f'STRING: "{name}"'), result.stderr


def test_snmp_v2c_public_gets_nothing(host, site):
    result = snmpget("-v2c", "-c", "public", own_address(site, host_name(host, site)), SYS_NAME)
    assert (result.returncode != 0, result.stdout) == (True, "")


def test_no_community_in_the_configuration(host):
    lines = host.file("/etc/snmp/snmpd.conf").content_string.splitlines()
    assert [line for line in lines if re.match(r"\s*(rocommunity|rwcommunity|com2sec)", line)] == []


def test_gmond_running(host):
    assert host.service("ganglia-monitor").is_running


@pytest.mark.roles("web")
def test_gmetad_running(host):
    assert host.service("gmetad").is_running


@pytest.mark.roles("web")
def test_gmetad_knows_every_host(host, site):
    """gmetad's XML (port 8651, local only) lists all hosts once the first polls are in."""
    wanted = sorted(site.hosts)
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        xml = host.run(
            "python3 -c \"import socket; s=socket.create_connection(('127.0.0.1', 8651)); "
            "import sys; sys.stdout.write(b''.join(iter(lambda: s.recv(65536), b'')).decode())\""
        )
        if xml.rc == 0 and xml.stdout.strip():
            seen = sorted({h.get("NAME") for h in ET.fromstring(xml.stdout).iter("HOST")})
            if seen == wanted:
                break
        time.sleep(5)
    assert seen == wanted
