#!/bin/sh
# Managed by hastack (templates/acme/acme-hook.sh): uacme's challenge hook.
# uacme runs it as: hook METHOD TYPE IDENT TOKEN AUTH. HAProxy answers every HTTP-01
# challenge itself (the token and the account key's thumbprint), so there is nothing to put
# anywhere: accept http-01 when it begins, decline the other types.
[ "$1" != begin ] || [ "$2" = http-01 ]
