"""Facts of the ACME certificate on a proxy (hastack/components/acme.py)."""

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
