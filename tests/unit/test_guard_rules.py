"""The lab's guard (hastack/lab/guard.py): its rules, what it reads of this machine and of nft
(no nft, no root: the lab test tests/lab/test_guard.py proves it on the machine)."""

import json

from hastack.lab import guard

NETWORKS = ["10.231.1.0/24", "10.231.2.0/24"]


def rule_lines(text: str, chain: str) -> list[str]:
    body = text.split(f"chain {chain} {{", 1)[1].split("\n  }", 1)[0]
    return [
        line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("type ")
    ]


def test_the_lab_reaches_itself_its_resolver_and_a_private_mirror_only():
    text = guard.ruleset(NETWORKS, ["10.255.255.53", "fd00::53"], [("10.1.2.3", 3142)])
    lab = "{ 10.231.1.0/24, 10.231.2.0/24 }"
    for chain in ("forward", "input"):
        rules = rule_lines(text, chain)
        assert rules[:4] == [
            f"ip saddr {lab} ip daddr {lab} accept",
            f"ip saddr {lab} ip daddr {{ 10.255.255.53 }} meta l4proto {{ tcp, udp }} th dport 53 accept",
            f"ip saddr {lab} ip daddr 10.1.2.3 tcp dport 3142 accept",
            f"ip saddr {lab} ip protocol igmp accept",
        ]
        # Remembered in one rule, dropped in the next: a full set never stops the drop.
        remember, drop = rules[4:]
        assert ("update @dropped4" in remember, remember.endswith("drop"), "update" in drop) == (
            True,
            False,
            False,
        )
        assert (
            drop.endswith("counter name dropped drop") and "224.0.0.0/4" in drop and "169.254.0.0/16" in drop
        )
    assert "br-*" not in text and "ip6" not in text


def test_the_resolvers_are_read_without_loopback_or_repeats(tmp_path, monkeypatch):
    first, second = tmp_path / "resolv.conf", tmp_path / "upstream.conf"
    first.write_text("# a comment\nnameserver 127.0.0.53\nnameserver 10.255.255.53\nsearch lab\n")
    second.write_text("nameserver 10.255.255.53\nnameserver fe80::1%eth0\nnameserver nonsense\n")
    monkeypatch.setattr(guard, "RESOLV_CONFS", [first, second, tmp_path / "missing"])
    assert guard.resolvers() == ["10.255.255.53", "fe80::1"]


def test_only_a_mirror_in_a_guarded_range_gets_a_rule():
    assert (
        guard.mirror_endpoints("http://10.1.2.3:3142/debian"),
        guard.mirror_endpoints("https://192.168.7.7/debian"),
        guard.mirror_endpoints("http://127.0.0.1/debian"),
        guard.mirror_endpoints("http://203.0.113.80/debian"),
    ) == ([("10.1.2.3", 3142)], [("192.168.7.7", 443)], [], [])


def test_the_report_reads_nfts_json(monkeypatch):
    listed = {
        "nftables": [
            {"metainfo": {"version": "1.0.6"}},
            {"counter": {"family": "inet", "name": "dropped", "packets": 508, "bytes": 42672}},
            {"set": {"name": "dropped4", "elem": ["192.168.1.1", {"elem": {"val": "192.168.1.2"}}]}},
        ]
    }

    class Done:
        stdout = json.dumps(listed)

    monkeypatch.setattr(guard, "installed", lambda: True)
    monkeypatch.setattr(guard, "_nft", lambda *args, **kwargs: Done)
    assert guard.report() == (508, ["192.168.1.1", "192.168.1.2"])
    assert guard.describe().startswith("the lab's guard dropped 508 packet(s)")


def test_a_long_list_of_addresses_is_cut(monkeypatch):
    monkeypatch.setattr(guard, "report", lambda: (254, [f"192.168.1.{n}" for n in range(1, 255)]))
    assert guard.describe().endswith("192.168.1.12 and 242 more")


def test_the_stamp_tells_rules_apart():
    one = guard.stamped(guard.ruleset(NETWORKS, ["10.255.255.53"]))
    other = guard.stamped(guard.ruleset(NETWORKS, ["10.255.255.54"]))
    assert one.splitlines()[1] != other.splitlines()[1] and one.splitlines()[1].startswith(
        '  comment "hastack'
    )
