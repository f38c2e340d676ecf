"""The VM image cache (hastack/lab/vm.py): a new image leaves only itself beside it, and is built
once when asked side by side; the lab's key, made once when asked side by side."""

import threading
import time

from hastack.lab import hosts, vm


def test_a_new_image_removes_those_of_earlier_recipes_only(tmp_path):
    for name in ("base-aaa", "base-bbb", "base-new", "net", "storage-web1"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "base.qcow2").write_text("x")
    vm.prune_images(tmp_path / "base-new")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["base-new", "net", "storage-web1"]


def test_the_recipe_names_what_the_image_carries_and_keeps_off():
    """A change to the packages, or to what is off, builds a new image."""
    before = vm.recipe_hash("ssh-ed25519 KEY")
    vm.PREINSTALLED_MASKED.append("example.service")
    try:
        changed = vm.recipe_hash("ssh-ed25519 KEY")
    finally:
        vm.PREINSTALLED_MASKED.pop()
    assert (changed != before, vm.recipe_hash("ssh-ed25519 KEY")) == (True, before)


def side_by_side(function, count: int = 4) -> list:
    """``function`` called in ``count`` threads at once (a barrier): its results, or errors."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def one(index):
        barrier.wait()
        try:
            results[index] = function()
        except Exception as error:  # noqa: BLE001 - the test compares what each got
            results[index] = error

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_processes_asking_together_build_the_image_once(tmp_path, monkeypatch):
    """Processes that ask for the image together (a VM test module, `hastack drill raid` run by
    hand): one builds it, the others wait and find it built (two builds rename onto one folder,
    and cost minutes)."""
    builds = []

    def build(folder, public_key):
        builds.append(folder)
        time.sleep(0.3)
        folder.mkdir()
        (folder / "base.qcow2").write_text("x")
        return folder

    monkeypatch.setattr(vm, "VM_DIR", tmp_path)
    monkeypatch.setattr(vm, "ensure_key", lambda: "ssh-ed25519 KEY")
    monkeypatch.setattr(vm, "_build", build)
    results = side_by_side(vm.build_image)
    assert (len(builds), {str(result) for result in results}) == (1, {str(builds[0])})


def test_the_lab_key_is_made_once_when_asked_side_by_side(tmp_path, monkeypatch):
    """The lab and the VM tests start side by side: each gets the one key, none fails (a second
    ssh-keygen over the first one's file refuses to overwrite it)."""
    monkeypatch.setattr(hosts, "LAB_DIR", tmp_path)
    monkeypatch.setattr(hosts, "KEY_FILE", tmp_path / "id_ed25519")
    results = side_by_side(hosts.ensure_key)
    assert (len(set(results)), str(results[0]).startswith("ssh-ed25519 ")) == (1, True), results


def test_a_build_killed_midway_is_removed_by_the_next(tmp_path, monkeypatch):
    """Its root file system and raw disk (gigabytes) are not left behind for ever."""
    (tmp_path / "build-old" / "rootfs" / "proc").mkdir(parents=True)
    (tmp_path / "build-old" / "root.raw").write_text("x")
    monkeypatch.setattr(vm, "VM_DIR", tmp_path)
    monkeypatch.setattr(vm, "ensure_key", lambda: "ssh-ed25519 KEY")
    monkeypatch.setattr(vm, "_build", lambda folder, key: folder)
    vm.build_image()
    assert sorted(path.name for path in tmp_path.iterdir()) == [".build.lock"]
