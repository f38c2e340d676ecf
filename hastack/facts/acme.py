"""Facts of the ACME certificate on a proxy (hastack/components/acme.py)."""

import shlex

from pyinfra.api import FactBase


class AcmeCertificate(FactBase):
    """Whether this proxy's ACME certificate is there for these names (``names``: sorted, one
    space apart), good for more than ``days``, and the one in HAProxy's file: "current", else
    what is missing ("none", "expiring", "names", "unserved")."""

    def command(self, conf_dir: str, first: str, names: str, pem: str, days: int) -> str:
        cert = f"{conf_dir}/{first}/cert.pem"
        return (
            f"if [ ! -s {cert} ]; then echo none; "
            f"elif ! openssl x509 -in {cert} -noout -checkend {days * 86400} >/dev/null; then echo expiring; "
            f"elif [ \"$(openssl x509 -in {cert} -noout -ext subjectAltName | grep -o 'DNS:[^,]*' "
            f"| sed 's/^DNS://' | LC_ALL=C sort -u | tr '\\n' ' ')\" != '{names} ' ]; then echo names; "
            f"elif ! head -c $(stat -c %s {cert}) {pem} 2>/dev/null | cmp -s - {cert}; then echo unserved; "
            "else echo current; fi"
        )

    def process(self, output):
        return output[0].strip() if output else "none"


class AcmeDirectoryAnswer(FactBase):
    """Whether the ACME server's directory answers this host: "answers", else "no: " and what
    was seen. With curl (any host hastack deployed once), a GET whose answer names newNonce, the
    directory's own field; the chain is not checked here (tls_acme_ca_bundle reaches the host
    with the deploy, and each run of the client checks it). Without curl (a host's first run),
    a TCP connection to the directory's host and port, through bash."""

    def command(self, url: str, address: str, port: int) -> str:
        quoted = shlex.quote(url)
        return (
            "if command -v curl >/dev/null 2>&1; then "
            f"out=$(curl -ksS --connect-timeout 5 -m 10 {quoted} 2>&1 | head -c 4000); "
            'case "$out" in *newNonce*) echo answers;; '
            "*) echo \"no: $(printf '%s' \"$out\" | tr -s '\\n' ' ' | head -c 300)\";; esac; "
            f"elif timeout 5 bash -c {shlex.quote(f'exec 3<>/dev/tcp/{address}/{port}')} 2>/dev/null; "
            "then echo answers; "
            f"else echo 'no: nothing accepts a connection on {address} port {port}'; fi"
        )

    def process(self, output):
        return " ".join(line.strip() for line in output).strip() or "no: no answer"
