"""File operations with validation before a file goes live."""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from io import StringIO

from pyinfra import host, state
from pyinfra.api import FileUploadCommand, OperationError, QuoteString, StringCommand, operation
from pyinfra.api.util import get_template
from pyinfra.facts.files import File, FileContents, Sha256File
from pyinfra.facts.server import Mounts
from pyinfra.operations import files as pyinfra_files
from pyinfra.operations import server, systemd

from hastack.facts.monitoring import PatchState
from hastack.facts.system import IsDirectory


def render_template(src: str, **data) -> str:
    """Render a local Jinja template with the same context ``files.template`` gives."""
    data.setdefault("host", host)
    data.setdefault("state", state)
    data.setdefault("inventory", state.inventory)
    return get_template(src).render(data)


@operation()
def validated_file(
    dest: str,
    content: str,
    validate: str | None = None,
    mode: str = "644",
    user: str = "root",
    group: str = "root",
):
    """
    Install a file only if a validation command accepts it first.

    + dest: remote path of the file
    + content: the whole content the file must have
    + validate: shell command run on the candidate before it replaces ``dest``;
      ``{path}`` stands for the candidate's path; a non-zero exit refuses the
      file and leaves ``dest`` as it was
    + mode: octal permissions of the installed file
    + user: owner of the installed file
    + group: group of the installed file

    The candidate is uploaded next to ``dest`` and moved over it in one rename,
    so readers never see a half-written file.
    """
    wanted_sum = hashlib.sha256(content.encode()).hexdigest()
    current = host.get_fact(File, path=dest)
    same_content = current and host.get_fact(Sha256File, path=dest) == wanted_sum
    # pyinfra's File fact gives the mode as the octal digits read as decimal: 644.
    same_meta = current and (current["mode"], current["user"], current["group"]) == (
        int(mode),
        user,
        group,
    )
    if same_content and same_meta:
        host.noop(f"{dest} is up to date")
        return
    if same_content:
        yield StringCommand("chmod", mode, QuoteString(dest))
        yield StringCommand("chown", f"{user}:{group}", QuoteString(dest))
        return

    candidate = posixpath.join(posixpath.dirname(dest), f".{posixpath.basename(dest)}.hastack-new")
    # Made private first: the upload writes into it and keeps its mode, so the content (a
    # password in a configuration) is never in a file others can read, not even before the chmod.
    yield StringCommand(
        "install", "-m", "600", "-o", "root", "-g", "root", "/dev/null", QuoteString(candidate)
    )
    yield FileUploadCommand(
        StringIO(content),
        candidate,
        # through the run's upload folder (a sudo user's private one: host_os.private_uploads)
        remote_temp_filename=host.get_temp_filename(
            candidate, temp_directory=(host.current_op_global_arguments or {}).get("_temp_dir")
        ),
    )
    yield StringCommand("chmod", mode, QuoteString(candidate))
    yield StringCommand("chown", f"{user}:{group}", QuoteString(candidate))
    if validate:
        check = validate.format(path=candidate)
        yield (
            f"if ! out=$( ( {check} ) 2>&1 ); then rm -f {candidate}; "
            f"echo {shlex.quote(f'hastack: the new {dest} was refused by: {check}; it said:')} >&2; "
            "printf '%s\\n' \"$out\" | tail -n 20 >&2; exit 1; fi"
        )
    yield StringCommand("mv", "-f", QuoteString(candidate), QuoteString(dest))


@operation()
def fstab_entry(
    mount_point: str, device: str, fs_type: str, options: list[str], dump: int = 0, passno: int = 0
):
    """
    Exactly one /etc/fstab line for a mount point.

    + mount_point: where the filesystem is mounted
    + device: what is mounted (device, ``UUID=...``, ``server:/volume``)
    + fs_type: filesystem type
    + options: mount options
    + dump: the fifth field
    + passno: the sixth field (fsck order)

    Other lines for the same mount point are removed; nothing else is touched.
    """
    wanted = f"{device} {mount_point} {fs_type} {','.join(options)} {dump} {passno}"
    lines = host.get_fact(FileContents, path="/etc/fstab") or []
    ours = [line for line in lines if _fstab_target(line) == mount_point]
    if [" ".join(line.split()) for line in ours] == [wanted]:
        host.noop(f"/etc/fstab mounts {mount_point} as wanted")
        return
    if ours:
        pattern = mount_point.replace("/", r"\/")
        yield f"sed -i '/^[^#[:space:]][^[:space:]]*[[:space:]][[:space:]]*{pattern}[[:space:]]/d' /etc/fstab"
    yield StringCommand("echo", QuoteString(wanted), ">>", "/etc/fstab")


def _fstab_target(line: str) -> str | None:
    fields = line.split()
    return fields[1] if len(fields) >= 2 and not fields[0].startswith("#") else None


@operation()
def directory_for_mount(path: str):
    """
    A directory to mount on, made when missing; its owner, mode and times are left alone (a
    filesystem mounted on it has its own).

    + path: the mount point
    """
    if host.get_fact(IsDirectory, path=path):
        host.noop(f"{path} is a directory")
        return
    yield f"mkdir -p {shlex.quote(path)}"


def mount_at_boot(
    mount_point: str, device: str, fs_type: str, options: list[str], how: str, passno: int = 0
) -> bool:
    """Create the mount point, keep its one /etc/fstab line, and mount it now if it is not mounted.

    ``how`` ends the fstab step's name ("Mount /raid1 <how>"). Returns whether this run mounts it.
    """
    directory_for_mount(name=f"Create {mount_point}", path=mount_point)
    fstab_entry(
        name=f"Mount {mount_point} {how}",
        mount_point=mount_point,
        device=device,
        fs_type=fs_type,
        options=options,
        passno=passno,
    )
    if mount_point in host.get_fact(Mounts):
        return False
    server.shell(name=f"Mount {mount_point}", commands=[f"mount {mount_point}"])
    return True


@operation()
def patched_tree(directory: str, patch: str):
    """
    Apply a unified diff (``-p1``) to a tree of files, such as a package's, once.

    + directory: the tree the diff's paths are relative to
    + patch: remote path of the diff (upload it first)

    Applied again after a package upgrade put the old files back; a tree that
    the diff neither applies to nor is applied in fails the operation, with
    nothing changed: the package changed under the patch.
    """
    where = host.get_fact(PatchState, directory=directory, patch=patch)
    if where == "applied":
        host.noop(f"{patch} is applied in {directory}")
        return
    if where == "conflict":
        raise OperationError(
            f"{patch} neither applies to {directory} nor is applied there: "
            "the package changed; update the patch"
        )
    yield StringCommand("patch", "-d", QuoteString(directory), "-p1", "-N", "-s", "-r", "-", "<", patch)


def start_after_mount(unit: str, dest: str, mount_point: str, comment: str) -> None:
    """A systemd drop-in (``dest``) by which ``unit`` starts only once ``mount_point`` is mounted,
    and not if it cannot be (RequiresMountsFor); systemd reloads it when it changes. ``comment``:
    the file's first line, who manages it and why."""
    dropin = pyinfra_files.put(
        name=f"Start {unit} only once {mount_point} is mounted",
        src=StringIO(f"# {comment}\n[Unit]\nRequiresMountsFor={mount_point}\n"),
        dest=dest,
        mode="644",
    )
    systemd.daemon_reload(name=f"Load {unit}'s order after {mount_point}", _if=dropin.did_change)
