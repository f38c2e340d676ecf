"""Seconds without service, from a stream of (time, status) samples."""

from hastack.drill import failures, outage


def test_no_failure_no_outage():
    assert outage([(0.0, 200), (0.05, 200)]) == 0.0


def test_outage_runs_from_the_first_failure_to_the_next_success():
    samples = [(0.0, 200), (1.0, 0), (1.5, 503), (3.2, 200), (4.0, 0), (4.5, 200)]
    assert outage(samples) == 2.2


def test_an_outage_still_running_at_the_end_counts():
    assert outage([(0.0, 200), (1.0, 0), (2.5, 0)]) == 1.5


def test_drills_act_on_lab_containers_only_for_a_lab_site(fixtures):
    """Chosen from the site file, not from its path: `lab: true` (written by `hastack lab up`)."""
    from hastack import drill, lab
    from hastack.site import load_site, parse_site

    servers = load_site(fixtures / "good_site.yaml")
    in_lab = parse_site(lab.site_text(13, lab.HOSTS), "anywhere.yaml")
    assert (type(drill.host_control(servers, None)), type(drill.host_control(in_lab, None))) == (
        drill.RealServers,
        drill.LabHosts,
    )


def test_the_command_offers_every_drill():
    from hastack import cli, drill

    parser = cli.build_parser()
    drill_parser = parser._subparsers._group_actions[0].choices["drill"]
    name = next(action for action in drill_parser._actions if action.dest == "name")
    assert list(name.choices) == list(drill.DRILLS)


def test_the_stream_is_open_loop_with_fresh_connections_and_a_short_timeout():
    """The client's stream against a server on loopback that hangs for a second: requests keep
    starting on schedule while earlier ones hang (open loop), each on a new connection, and
    a hung one fails after the 1 s timeout instead of being retried."""
    import http.server
    import json
    import subprocess
    import sys
    import threading
    import time

    from hastack.drill import STREAM, in_flight

    began = time.time()
    hang = (began + 1.0, began + 2.0)
    ports = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ports.add(self.client_address[1])
            if hang[0] <= time.time() < hang[1]:
                time.sleep(1.5)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        run = subprocess.run(
            [sys.executable, "-c", STREAM, url, "3", "20"], capture_output=True, text=True, timeout=30
        )
    finally:
        server.shutdown()
    samples = sorted(tuple(json.loads(line)) for line in run.stdout.splitlines())
    starts = [start for start, _, _ in samples]
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    failed = [(start, end) for start, status, end in samples if status != 200]
    assert (
        len(samples),
        # on schedule while answers hang (a loaded machine may start one late)
        abs(sorted(gaps)[len(gaps) // 2] - 0.05) < 0.02 and max(gaps) < 0.5,
        len(ports),
        # about 20 (1 s of hang at 20 a second); a loaded machine shifts a few either way
        15 <= len(failed) <= 25,
        # failed at the 1 s timeout, not retried (a retry would take 2 s or more)
        all(0.95 <= end - start < 1.5 for start, end in failed),
        in_flight(samples, hang[0] + 0.5) >= 10,
    ) == (60, True, 60, True, True, True)


def test_the_stream_stops_when_its_stop_file_appears(tmp_path):
    """A join or removal lasts as long as its deploy: the stream then runs until told to stop."""
    import subprocess
    import sys
    import time

    from hastack.drill import STREAM

    stop = tmp_path / "stop"
    began = time.monotonic()
    stream = subprocess.Popen(
        [sys.executable, "-c", STREAM, "http://127.0.0.1:9/", "60", "20", str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1)
    stop.touch()
    lines = stream.communicate(timeout=30)[0].splitlines()
    assert (time.monotonic() - began < 10, 10 <= len(lines) <= 40) == (True, True)


def test_failures_say_which_answers_failed_and_when():
    samples = [(10.0, 200), (11.2, 0), (11.4, 503), (11.6, 0), (12.0, 200)]
    assert (failures(samples, 11.0), failures(samples[:1], 11.0)) == (
        "failed: 2 timeouts, 1 503, started +0.2 s to +0.6 s",
        "",
    )
