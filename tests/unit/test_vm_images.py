"""The VM image cache (hastack/lab/vm.py): a new image leaves only itself beside it."""

from hastack.lab import vm


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
