"""HSTS on the VIP: how long browsers are told to keep to HTTPS (data key tls_hsts_max_age)."""

# tls_hsts_max_age's default: chosen from the certificate.
AUTO = -1
# With a certificate that browsers trust: two years, as Mozilla advises.
TRUSTED_S = 63072000
# Above this, with the site CA, `hastack check` warns.
SITE_CA_WARN_S = 86400


def max_age(setting: int, certificate: str, acme_directory: str = "", acme_ca_bundle: str = "") -> int:
    """The max-age HTTPS answers carry: ``setting``, or by default two years with the site's own
    certificate (``tls_certificate``: a CA the browsers trust, presumably) and 0 with hastack's
    site CA. Browsers ignore HSTS over a certificate they do not trust (RFC 6797, 8.1); those
    given the site CA would be pinned, and if the CA is made again or taken from them, could not
    get past the error for as long as max-age says. 0 also tells a browser to forget what an
    earlier deploy's two years pinned."""
    if setting != AUTO:
        return setting
    return TRUSTED_S if certificate or trusted_acme(acme_directory, acme_ca_bundle) else 0


def trusted_acme(directory: str, ca_bundle: str) -> bool:
    """An ACME server whose certificates browsers trust, presumably: a public one (no CA bundle of
    its own) other than a staging server (Let's Encrypt's staging directory says so in its URL)."""
    return bool(directory) and not ca_bundle and "staging" not in directory
