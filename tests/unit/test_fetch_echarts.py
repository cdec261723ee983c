"""deploy/fetch_echarts.py: the npm tarball is written only when it matches the pinned sha512 integrity; without
the registry `make setup` goes on (a clear message) unless --strict (the image build)."""
from __future__ import annotations

import importlib.util
import io
import tarfile

from shared.config import REPO_ROOT

spec = importlib.util.spec_from_file_location("fetch_echarts", REPO_ROOT / "deploy" / "fetch_echarts.py")
fetch_echarts = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fetch_echarts)


def registry_with(tmp_path, files: dict[str, bytes]) -> str:
    """A file:// registry holding an echarts tarball of `files` at the pinned version's path."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    path = tmp_path / "registry" / "echarts" / "-"
    path.mkdir(parents=True)
    (path / f"echarts-{fetch_echarts.VERSION}.tgz").write_bytes(out.getvalue())
    return (tmp_path / "registry").as_uri()


def test_a_tarball_that_is_not_the_pinned_one_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    registry = registry_with(tmp_path, {"package/dist/echarts.min.js": b"alert('not echarts')",
                                        "package/LICENSE": b"x", "package/NOTICE": b"y"})
    target = tmp_path / "vendor"
    try:
        fetch_echarts.fetch(registry, target)
        raise AssertionError("a tarball with another integrity was accepted")
    except RuntimeError as refused:
        assert fetch_echarts.INTEGRITY in str(refused)
    assert not target.exists() and not fetch_echarts.installed(target)


def test_the_integrity_is_the_npm_sha512_form():
    assert fetch_echarts.integrity_of(b"") == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==")
    assert fetch_echarts.INTEGRITY.startswith("sha512-") and fetch_echarts.VERSION.count(".") == 2


def test_without_the_registry_setup_goes_on_and_strict_fails(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fetch_echarts, "TARGET", tmp_path / "vendor")
    monkeypatch.setattr(fetch_echarts, "installed", lambda target=None: False)
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", (tmp_path / "nowhere").as_uri())
    assert fetch_echarts.main([]) == 0
    assert "make setup" in capsys.readouterr().err
    assert fetch_echarts.main(["--strict"]) == 1
