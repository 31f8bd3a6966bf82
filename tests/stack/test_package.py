"""Function packaging: deterministic zips, content-hash caches, requirements through pip."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from harness.stack import package
from harness.stack.errors import PackagingError
from harness.stack.package import FunctionPackager


def make_function(root: Path, body: str = "def handler(e, c):\n    return 1\n") -> Path:
    source = root / "fn"
    (source / "lib").mkdir(parents=True, exist_ok=True)
    (source / "app.py").write_text(body)
    (source / "lib" / "tool.sh").write_text("#!/bin/sh\n")
    os.chmod(source / "lib" / "tool.sh", 0o755)
    (source / "__pycache__").mkdir(exist_ok=True)
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    return source


def make_wheel(wheelhouse: Path, name: str = "harnessprobe", version: str = "1.0") -> None:
    """A minimal pure-Python wheel, so pip can install offline from the wheelhouse."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(wheelhouse / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", "VALUE = 42\n")
        wheel.writestr(
            f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        wheel.writestr(
            f"{dist}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        wheel.writestr(f"{dist}/RECORD", "")


def test_the_same_code_gives_the_same_bytes_and_hits_the_cache(tmp_path: Path) -> None:
    source = make_function(tmp_path)
    first = FunctionPackager(tmp_path / "cache-a").package(source)
    second = FunctionPackager(tmp_path / "cache-b").package(source)
    assert first.read() == second.read()  # byte for byte, across caches
    assert not first.reused
    again = FunctionPackager(tmp_path / "cache-a").package(source)
    assert again.reused and again.zip_path == first.zip_path
    with zipfile.ZipFile(first.zip_path) as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert names == ["app.py", "lib/tool.sh"]  # sorted; __pycache__ left out
    assert modes["lib/tool.sh"] & 0o777 == 0o755
    assert modes["app.py"] & 0o777 == 0o644


def test_a_changed_file_gives_a_new_package(tmp_path: Path) -> None:
    source = make_function(tmp_path)
    packager = FunctionPackager(tmp_path / "cache")
    before = packager.package(source)
    (source / "app.py").write_text("def handler(e, c):\n    return 2\n")
    after = packager.package(source)
    assert after.content_hash != before.content_hash and not after.reused


def test_requirements_install_from_the_wheelhouse_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_function(tmp_path)
    (source / "requirements.txt").write_text("# pinned\nharnessprobe==1.0\n")
    cache = tmp_path / "cache"
    make_wheel(cache / "wheels")
    packager = FunctionPackager(cache)
    packaged = packager.package(source, runtime="python3.12")
    with zipfile.ZipFile(packaged.zip_path) as archive:
        assert archive.read("harnessprobe/__init__.py") == b"VALUE = 42\n"
        assert "app.py" in archive.namelist()
        assert "requirements.txt" in archive.namelist()

    # a code change reuses the installed requirements: pip does not run again
    def no_pip(self: FunctionPackager, args: list[str]) -> None:
        raise AssertionError(f"pip ran again: {args}")

    monkeypatch.setattr(FunctionPackager, "_pip", no_pip)
    (source / "app.py").write_text("def handler(e, c):\n    return 3\n")
    rebuilt = packager.package(source, runtime="python3.12")
    assert rebuilt.content_hash != packaged.content_hash
    with zipfile.ZipFile(rebuilt.zip_path) as archive:
        assert "harnessprobe/__init__.py" in archive.namelist()


def test_requirements_pip_cannot_find_fail_with_pips_words(tmp_path: Path) -> None:
    source = make_function(tmp_path)
    (source / "requirements.txt").write_text("harnessprobe==9.9\n")
    cache = tmp_path / "cache"
    make_wheel(cache / "wheels")
    packager = FunctionPackager(cache)
    # no index: only the wheelhouse, which lacks 9.9
    packager._pip = lambda args: package.subprocess.CompletedProcess(  # type: ignore[method-assign]
        args, 1, "", "ERROR: No matching distribution found for harnessprobe==9.9"
    )
    with pytest.raises(PackagingError, match="No matching distribution found for harnessprobe"):
        packager.package(source)


def test_platform_options_select_lambda_wheels() -> None:
    args = package._platform_args("python3.12", "arm64")
    assert args[:5] == ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.12"]
    assert "manylinux2014_aarch64" in args and "manylinux_2_28_aarch64" in args
    assert "manylinux2014_x86_64" in package._platform_args("python3.11", "x86_64")


def test_a_zip_is_used_as_it_is_and_a_missing_path_is_named(tmp_path: Path) -> None:
    ready = tmp_path / "code.zip"
    with zipfile.ZipFile(ready, "w") as archive:
        archive.writestr("index.py", "x = 1\n")
    packaged = FunctionPackager(tmp_path / "cache").package(ready)
    assert packaged.zip_path == ready and packaged.read() == ready.read_bytes()
    with pytest.raises(PackagingError, match=r"neither a directory nor a \.zip"):
        FunctionPackager(tmp_path / "cache").package(tmp_path / "missing")


def test_a_python_layer_is_built_into_python_with_its_requirements(tmp_path: Path) -> None:
    source = tmp_path / "layer"
    (source / "helpers").mkdir(parents=True)
    (source / "helpers" / "__init__.py").write_text("NAME = 'helpers'\n")
    (source / "requirements.txt").write_text("harnessprobe==1.0\n")
    cache = tmp_path / "cache"
    make_wheel(cache / "wheels")
    packager = FunctionPackager(cache)

    built = packager.package_layer(source, "python3.12")
    with zipfile.ZipFile(built.zip_path) as archive:
        names = set(archive.namelist())
        assert archive.read("python/harnessprobe/__init__.py") == b"VALUE = 42\n"
    assert {"python/helpers/__init__.py", "python/requirements.txt"} <= names
    assert not [name for name in names if not name.startswith("python/")]

    # the same folder as a function (or as a layer laid out by hand) is a different package
    function = packager.package(source, "python3.12")
    assert function.content_hash != built.content_hash
    as_is = packager.package_layer(source, None)
    with zipfile.ZipFile(as_is.zip_path) as archive:
        assert sorted(archive.namelist()) == ["helpers/__init__.py", "requirements.txt"]
