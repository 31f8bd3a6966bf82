"""Function and layer packaging: a code directory plus its requirements -> a deterministic zip,
cached.

Two caches, both keyed by content hash under the cache directory:

- ``deps/<hash>/``: the requirements installed with ``pip install --target`` for the function's
  runtime and architecture (Lambda's Linux wheels). Keyed by requirements.txt, so editing code
  never reinstalls them.
- ``zips/<hash>.zip``: the finished archive, keyed by every file's content plus the deps hash.

pip first tries the local wheelhouse ``wheels/`` with ``--no-index`` (offline, fast); only
when that cannot satisfy the requirements does it download into the wheelhouse from the
configured index. Zips have fixed timestamps and sorted entries, so the same input gives the
same bytes (and the same CodeSha256) on every machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import PackagingError

#: bump when the archive layout changes, so old cache entries are not reused
PACKAGE_FORMAT = "1"
#: Lambda's limit for a zip uploaded directly with CreateFunction (ZipFile)
MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024
_SKIPPED_DIRS = {
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".git",
    ".aws-sam",
    ".venv",
    ".harness",  # the harness's own cache, beside the template
}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PackagedCode:
    """A function's deployment package."""

    source: Path
    zip_path: Path
    content_hash: str
    size: int
    reused: bool  # True when the cache already held it

    def read(self) -> bytes:
        """The zip's bytes (what CreateFunction uploads as ZipFile)."""
        return self.zip_path.read_bytes()


class FunctionPackager:
    """Builds and caches function zips under ``cache_dir``."""

    def __init__(self, cache_dir: Path | str, *, pip_timeout: float = 600):
        self.cache_dir = Path(cache_dir)
        self.pip_timeout = pip_timeout

    def package(
        self, source: Path | str, runtime: str = "python3.11", architecture: str = "x86_64"
    ) -> PackagedCode:
        """The zip for a function's ``source`` (a directory, or a ready .zip used as it is)."""
        return self._package(
            Path(source), runtime, architecture, prefix="", install=runtime.startswith("python")
        )

    def package_layer(
        self, source: Path | str, build_method: str | None, architecture: str = "x86_64"
    ) -> PackagedCode:
        """The zip for a layer's local content, built as `sam build` builds it.

        A ``python3.x`` build method puts the folder and its installed requirements.txt under
        ``python/`` (on the function's path as /opt/python); none keeps the folder as it is.
        """
        if build_method is None:
            return self._package(Path(source), "", architecture, prefix="", install=False)
        return self._package(
            Path(source), build_method, architecture, prefix="python/", install=True
        )

    def _package(
        self, source: Path, runtime: str, architecture: str, *, prefix: str, install: bool
    ) -> PackagedCode:
        if source.is_file() and source.suffix == ".zip":
            data = source.read_bytes()
            return PackagedCode(source, source, _sha256(data), len(data), reused=True)
        if not source.is_dir():
            raise PackagingError(f"code path {source} is neither a directory nor a .zip file")
        files = [(prefix + name, path) for name, path in _source_files(source)]
        requirements = _requirements(source) if install else None
        deps_hash = (
            _digest(PACKAGE_FORMAT, runtime, architecture, requirements) if requirements else ""
        )
        content_hash = _digest(
            PACKAGE_FORMAT,
            runtime,
            architecture,
            deps_hash,
            *([f"prefix:{prefix}"] if prefix else []),
            *(f"{name}:{_mode(path):o}:{_sha256(path.read_bytes())}" for name, path in files),
        )
        zip_path = self.cache_dir / "zips" / f"{content_hash}.zip"
        if zip_path.is_file():
            return PackagedCode(source, zip_path, content_hash, zip_path.stat().st_size, True)
        with self._locked(content_hash):
            if zip_path.is_file():  # another process built it while we waited
                return PackagedCode(source, zip_path, content_hash, zip_path.stat().st_size, True)
            deps_dir = None
            if requirements:
                deps_dir = self._dependencies(deps_hash, source, runtime, architecture)
            self._write_zip(zip_path, files, deps_dir, prefix)
        size = zip_path.stat().st_size
        if size > MAX_DIRECT_UPLOAD_BYTES:
            raise PackagingError(
                f"{source}: the package is {size / 1e6:.1f} MB; Lambda takes at most "
                f"{MAX_DIRECT_UPLOAD_BYTES // (1024 * 1024)} MB uploaded directly"
            )
        return PackagedCode(source, zip_path, content_hash, size, reused=False)

    # -- requirements --------------------------------------------------------------------------

    def _dependencies(self, deps_hash: str, source: Path, runtime: str, arch: str) -> Path:
        target = self.cache_dir / "deps" / deps_hash
        if (target / ".complete").is_file():
            return target
        with self._locked(f"deps-{deps_hash}"):
            if not (target / ".complete").is_file():  # not built while we waited
                self._install_dependencies(target, deps_hash, source, runtime, arch)
        return target

    def _install_dependencies(
        self, target: Path, deps_hash: str, source: Path, runtime: str, arch: str
    ) -> None:
        build = Path(tempfile.mkdtemp(prefix="deps-", dir=self._scratch()))
        try:
            requirements = source / "requirements.txt"
            offline = self._pip_install(build, requirements, runtime, arch, offline=True)
            if offline.returncode != 0:
                fetch = ["download", "--dest", str(self._wheelhouse())]
                fetch += ["--requirement", str(requirements), *_platform_args(runtime, arch)]
                download = self._pip(fetch)
                if download.returncode != 0:
                    raise PackagingError(
                        f"{requirements}: pip could not fetch the requirements for {runtime} "
                        f"({arch}) and the local wheelhouse {self._wheelhouse()} lacks them:\n"
                        + _tail(download.stderr)
                    )
                # install from the wheelhouse the download just filled
                second = self._pip_install(build, requirements, runtime, arch, offline=True)
                if second.returncode != 0:
                    raise PackagingError(
                        f"{requirements}: pip install failed:\n{_tail(second.stderr)}"
                    )
            (build / ".complete").write_text(deps_hash)
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            build.rename(target)
        finally:
            if build.exists():
                shutil.rmtree(build, ignore_errors=True)

    def _pip_install(
        self, build: Path, requirements: Path, runtime: str, arch: str, *, offline: bool
    ) -> subprocess.CompletedProcess[str]:
        args = ["install", "--target", str(build), "--requirement", str(requirements)]
        args += ["--no-compile", *_platform_args(runtime, arch)]
        if offline:
            args += ["--no-index", "--find-links", str(self._wheelhouse())]
        return self._pip(args)

    def _pip(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pip", *args]
        command += ["--disable-pip-version-check", "--no-input", "--quiet"]
        try:
            return subprocess.run(
                command, capture_output=True, text=True, timeout=self.pip_timeout, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise PackagingError(
                f"pip did not finish within {self.pip_timeout:g}s: {' '.join(command)}"
            ) from err

    def _wheelhouse(self) -> Path:
        path = self.cache_dir / "wheels"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- archive -------------------------------------------------------------------------------

    def _write_zip(
        self,
        zip_path: Path,
        files: list[tuple[str, Path]],
        deps_dir: Path | None,
        prefix: str = "",
    ) -> None:
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        entries = dict(files)
        if deps_dir is not None:
            for name, path in _source_files(deps_dir):
                if name != ".complete":
                    entries.setdefault(prefix + name, path)  # the code's own files win
        handle, temporary = tempfile.mkstemp(suffix=".zip", dir=zip_path.parent)
        os.close(handle)
        try:
            # level 1: a rebuild after a code edit stays fast; the size gained by higher
            # levels matters little below Lambda's limits
            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
                for name in sorted(entries):
                    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = (0o100000 | _mode(entries[name])) << 16
                    archive.writestr(info, entries[name].read_bytes())
            os.replace(temporary, zip_path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)

    # -- concurrency ---------------------------------------------------------------------------

    def _scratch(self) -> Path:
        path = self.cache_dir / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        """One builder per content hash across processes (pytest-xdist workers share the cache)."""
        locks = self.cache_dir / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{key}.lock", "w") as handle:
            try:
                import fcntl
            except ImportError:  # no POSIX locks (Windows): atomic renames still keep it safe
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _platform_args(runtime: str, arch: str) -> list[str]:
    """pip options that select wheels for Lambda's Linux, Python version and architecture."""
    version = runtime.removeprefix("python")
    machine = "aarch64" if arch == "arm64" else "x86_64"
    platforms = [f"manylinux2014_{machine}"]
    if tuple(int(part) for part in version.split(".")) >= (3, 12):
        platforms += [f"manylinux_2_28_{machine}", f"manylinux_2_34_{machine}"]
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", version]
    for platform in platforms:
        args += ["--platform", platform]
    return args


def _requirements(source: Path) -> str | None:
    path = source / "requirements.txt"
    if not path.is_file():
        return None
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    meaningful = [line for line in lines if line]
    return "\n".join(meaningful) or None


def _source_files(root: Path) -> Iterator[tuple[str, Path]]:
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in sorted(names):
            if name.endswith(_SKIPPED_SUFFIXES) or name == ".DS_Store":
                continue
            path = Path(folder) / name
            if path.is_file():
                yield path.relative_to(root).as_posix(), path


def _mode(path: Path) -> int:
    return 0o755 if os.access(path, os.X_OK) else 0o644


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest(*parts: str) -> str:
    return _sha256("\0".join(parts).encode())


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
