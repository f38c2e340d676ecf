"""Facts and operations from JSON fixtures, as pyinfra's own tests do: facts in, commands out."""

import hashlib
import importlib
import json
import pkgutil
from pathlib import Path

import pytest
from pyinfra.api import Config, FactBase, FileUploadCommand, Inventory, OperationError, State
from pyinfra.context import ctx_host, ctx_state
from pyinfra.facts.files import File, FileContents, Sha256File
from pyinfra.facts.server import TmpDir

from hastack import facts
from hastack.facts.acme import AcmeCertificate, AcmeDirectoryAnswer
from hastack.facts.docker import DockerContainerRunning, DockerImageId, EntryCount
from hastack.facts.firewall import HastackFirewall
from hastack.facts.gluster import GlusterPeers, GlusterVolumes
from hastack.facts.haproxy import HaproxyServers
from hastack.facts.http import HttpStatus
from hastack.facts.mdadm import BlockSignature, DevicePaths, MdArray
from hastack.facts.monitoring import (
    CactiDevices,
    CactiDiscovery,
    CactiGraphsOfTemplates,
    CactiRrdsOfAnotherStep,
    GmetadHosts,
    PatchState,
)
from hastack.facts.network import (
    ArpAnswer,
    Ipv4Interfaces,
    NetplanFiles,
    NetplanProvides,
    OtherNetworkManagers,
)
from hastack.facts.pacemaker import CibConfiguration, CorosyncClusterName, PcsdKnownHosts
from hastack.facts.quorum import NssCertificates, QdeviceTimeout
from hastack.facts.system import (
    AptBusyAfterWait,
    AptComponents,
    HostIdentities,
    HostNeighbours,
    IsDirectory,
    MailServers,
    OnRootFilesystem,
    OsRelease,
    ResticRepository,
)
from hastack.operations import gluster, mdadm, pacemaker
from hastack.operations.files import directory_for_mount, fstab_entry, patched_tree, validated_file

FIXTURES = Path(__file__).parent / "fixtures"
FACT_CLASSES = {
    cls.__name__: cls
    for cls in (
        File,
        FileContents,
        Sha256File,
        TmpDir,
        GlusterPeers,
        GlusterVolumes,
        BlockSignature,
        MdArray,
        CibConfiguration,
        PatchState,
        IsDirectory,
    )
}
# Facts given per device in the fixtures: {"BlockSignature": {"/dev/vdb": {...}}}.
PER_DEVICE = {BlockSignature}
FACTS = {
    "acme_certificate": AcmeCertificate,
    "acme_directory_answer": AcmeDirectoryAnswer,
    "ipv4_interfaces": Ipv4Interfaces,
    "gluster_peers": GlusterPeers,
    "gluster_volumes": GlusterVolumes,
    "haproxy_servers": HaproxyServers,
    "block_signature": BlockSignature,
    "md_array": MdArray,
    "device_paths": DevicePaths,
    "netplan_files": NetplanFiles,
    "netplan_provides": NetplanProvides,
    "other_network_managers": OtherNetworkManagers,
    "host_identities": HostIdentities,
    "arp_answer": ArpAnswer,
    "hastack_firewall": HastackFirewall,
    "cacti_devices": CactiDevices,
    "gmetad_hosts": GmetadHosts,
    "cacti_discovery": CactiDiscovery,
    "cacti_rrds_of_another_step": CactiRrdsOfAnotherStep,
    "cacti_graphs_of_templates": CactiGraphsOfTemplates,
    "docker_image_id": DockerImageId,
    "docker_container_running": DockerContainerRunning,
    "http_status": HttpStatus,
    "entry_count": EntryCount,
    "patch_state": PatchState,
    "cib_configuration": CibConfiguration,
    "corosync_cluster_name": CorosyncClusterName,
    "pcsd_known_hosts": PcsdKnownHosts,
    "os_release": OsRelease,
    "is_directory": IsDirectory,
    "on_root_filesystem": OnRootFilesystem,
    "host_neighbours": HostNeighbours,
    "mail_servers": MailServers,
    "apt_busy_after_wait": AptBusyAfterWait,
    "apt_components": AptComponents,
    "nss_certificates": NssCertificates,
    "qdevice_timeout": QdeviceTimeout,
    "restic_repository": ResticRepository,
}
OPERATIONS = {
    "validated_file": validated_file,
    "fstab_entry": fstab_entry,
    "directory_for_mount": directory_for_mount,
    "gluster_peer": gluster.peer,
    "gluster_volume": gluster.volume,
    "gluster_fresh_brick": gluster.fresh_brick,
    "gluster_volume_shrink": gluster.volume_shrink,
    "mdadm_array": mdadm.array,
    "mdadm_filesystem": mdadm.filesystem,
    "pacemaker_resource": pacemaker.resource,
    "pacemaker_property": pacemaker.cluster_property,
    "pacemaker_resource_default": pacemaker.resource_default,
    "pacemaker_colocation": pacemaker.colocation,
    "pacemaker_clone": pacemaker.clone,
    "pacemaker_alert": pacemaker.alert,
    "patched_tree": patched_tree,
}


def cases(folder: str) -> list[Path]:
    return sorted((FIXTURES / folder).glob("*.json"))


FACT_CASES = [(name, path) for name in FACTS for path in cases(f"facts/{name}")]
OPERATION_CASES = [(name, path) for name in OPERATIONS for path in cases(f"operations/{name}")]


@pytest.mark.parametrize("fact, path", FACT_CASES, ids=[f"{n}/{p.stem}" for n, p in FACT_CASES])
def test_fact(fact, path):
    """The command a fact runs is pinned, and its output gives the fact (or the error)."""
    case = json.loads(path.read_text())
    instance = FACTS[fact]()
    requires = getattr(instance, "requires_command", None)
    ran = (instance.command(**case["args"]), requires(**case["args"]) if requires else None)
    assert ran == (case["command"], case.get("requires_command"))
    if "error" in case:
        with pytest.raises(Exception, match=case["error"]):
            instance.process(case["output"])
        return
    assert instance.process(case["output"]) == case["fact"]


def test_every_fact_has_fixtures():
    """Each fact class of hastack has a fixture folder."""
    modules = [
        importlib.import_module(f"hastack.facts.{info.name}") for info in pkgutil.iter_modules(facts.__path__)
    ]
    classes = {
        cls
        for module in modules
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, FactBase) and cls.__module__ == module.__name__
    }
    assert classes - {FACTS[name] for name, _ in FACT_CASES} == set()


def run_operation(operation, case: dict) -> tuple[list[str], list[str]]:
    inventory = Inventory((["somehost"], {}))
    state = State(inventory, Config())
    host = inventory.get_host("somehost")
    facts = {FACT_CLASSES[name]: value for name, value in case["facts"].items()}
    if case.get("content_sha256"):
        facts[Sha256File] = hashlib.sha256(case["args"]["content"].encode()).hexdigest()
    host.get_fact = lambda cls, **kwargs: facts[cls][kwargs["device"]] if cls in PER_DEVICE else facts[cls]
    noops: list[str] = []
    host.noop = noops.append
    with ctx_state.use(state), ctx_host.use(host):
        commands = list(operation._inner(**case["args"]))
    rendered = [
        f"upload {command.dest}" if isinstance(command, FileUploadCommand) else str(command)
        for command in commands
    ]
    return rendered, noops


@pytest.mark.parametrize(
    "operation, path", OPERATION_CASES, ids=[f"{n}/{p.stem}" for n, p in OPERATION_CASES]
)
def test_operation(operation, path):
    case = json.loads(path.read_text())
    if "error" in case:
        with pytest.raises(OperationError, match=case["error"]):
            run_operation(OPERATIONS[operation], case)
        return
    commands, noops = run_operation(OPERATIONS[operation], case)
    assert (commands, noops) == (case["commands"], [case["noop"]] if "noop" in case else [])
