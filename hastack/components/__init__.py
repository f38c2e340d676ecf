"""hastack's components: one module per part of a host (base, RAID, GlusterFS, NGINX, HAProxy,
Pacemaker, monitoring, ...), and ``roles``, which runs them in order for a host's role.

They hold pyinfra operations; the entry points that pyinfra runs are in ``deploys/``.
"""
