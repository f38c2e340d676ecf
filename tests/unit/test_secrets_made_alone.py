"""Secrets made by processes started together (./run's VM tests beside the lab's, each loading
the harness on a fresh checkout): one makes them, the others find them, and they are one set
(the leaves signed by the CA kept beside them). In CI the second process's O_EXCL create failed
on the fence material, and its whole suite with it; without the lock, two sets also mix."""

import os
import subprocess
import sys
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from hastack.defaults import ROOT
from hastack.lab import fence

# each waits for the same instant (given), after its imports: they race as CI's did
MAKE = (
    "import sys, time; from hastack import secrets; from hastack.lab import fence; "
    "time.sleep(max(0, float(sys.argv[1]) - time.time())); "
    "fence.material(); print(secrets.password('lab', 'made_alone'))"
)


def test_four_processes_at_once_make_one_set_of_fence_material_and_one_password(tmp_path):
    env = {**os.environ, "HASTACK_SECRETS_DIR": str(tmp_path)}
    start = time.time() + 3
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", MAKE, str(start)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    done = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    folder = tmp_path / "lab"
    ca = x509.load_pem_x509_certificate((folder / fence.CA_FILE).read_bytes())
    signed = []
    for name in (fence.CLIENT_CERT, fence.GATE_CERT):
        leaf = x509.load_pem_x509_certificate((folder / name).read_bytes())
        try:
            ca.public_key().verify(
                leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(leaf.signature_hash_algorithm)
            )
            signed.append(name)
        except InvalidSignature:
            pass
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in folder.iterdir()}
    assert (
        [code for code, _, _ in done],
        len({out for _, out, _ in done}),
        signed,
        set(modes.values()),
        oct(folder.stat().st_mode & 0o777),
    ) == ([0, 0, 0, 0], 1, [fence.CLIENT_CERT, fence.GATE_CERT], {"0o600"}, "0o700"), [
        err[-500:] for _, _, err in done
    ]
