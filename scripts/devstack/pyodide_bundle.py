"""Assemble the Pyodide bundle that lets current workerd run a Python Worker offline.

workerd loads Pyodide from a bundle file it would otherwise download. The
experimental bundle named `dev` is neither downloaded nor checked against a
hash compiled into the binary, so one assembled here from the npm `pyodide`
package (pinned in package.json) stands in for the released one. It holds
three modules: the package's `pyodide.asm.mjs`, adapted to workerd's sandbox,
its `pyodide.asm.wasm` and its `python_stdlib.zip`.

The file is cached under `.local/`; it is rebuilt when the package or the
adaptation changes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from devstack.capnp import Body, Module, encode_bundle
from toolkit.worker_files import write_atomically

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "node_modules" / "pyodide"
CACHE_DIR = ROOT / ".local" / "pyodide-bundle"
BUNDLE_NAME = "dev"
MODULE_PREFIX = "pyodideRuntime-internal:"
WRAPPERS = "pyodide-internal:builtin_wrappers"

# What the runtime's wrapper module offers in place of what its sandbox forbids.
IMPORTED = (
    "addEventListener",
    "getRandomValues",
    "location",
    "monotonicDateNow",
    "newWasmModule",
    "patchedLoadLibData",
    "wasmInstantiate",
)
_NO_EVAL = "(()=>{throw new Error('eval is not available in workerd')})()"
# (text, replacement, how many times the pinned package has it). A count that no
# longer matches means the package changed: the adaptation must be reviewed.
PATCHES: tuple[tuple[str, str, int], ...] = (
    # workerd compiles and instantiates wasm only through its own hooks.
    ("new WebAssembly.Module(", "newWasmModule(", 4),
    ("WebAssembly.instantiate(", "wasmInstantiate(", 2),
    # Timers are frozen during a request; Python needs a clock that moves.
    ("Date.now", "monotonicDateNow", 22),
    ("crypto.getRandomValues(", "getRandomValues(Module, ", 1),
    # No code may be evaluated at run time.
    ("eval(func)", _NO_EVAL, 2),
    ("eval(UTF8ToString(ptr))", _NO_EVAL, 3),
    ("eval(data)", _NO_EVAL, 1),
    # Shared libraries come from the runtime's loader, at stable memory bases.
    (
        "function loadLibData(){",
        "function loadLibData(){var libData=patchedLoadLibData(Module,libName,flags.rpath);"
        "return flags.loadAsync?Promise.resolve(libData):libData}function unusedLoadLibData(){",
        1,
    ),
    ("getMemory(", "Module.getMemoryPatched(Module,libName,", 1),
    # The runtime imports the factory both as the default and by name.
    (
        "export default _createPyodideModule;",
        "export default _createPyodideModule;export{_createPyodideModule};",
        1,
    ),
)


class BundleError(Exception):
    """The npm package is missing or no longer matches the adaptation."""


def adapt_asm(source: str) -> str:
    """`pyodide.asm.mjs` rewritten for workerd; every patch must match as counted."""
    for text, replacement, expected in PATCHES:
        found = source.count(text)
        if found != expected:
            raise BundleError(
                f"pyodide.asm.mjs has {text!r} {found} times, expected {expected}: "
                "the pinned pyodide package changed; review scripts/devstack/pyodide_bundle.py"
            )
        source = source.replace(text, replacement)
    names = ", ".join(IMPORTED)
    return f'import {{ {names} }} from "{WRAPPERS}";\n' + source


def package_version(package: Path = PACKAGE) -> str:
    manifest = package / "package.json"
    if not manifest.exists():
        raise BundleError(f"{package} is missing: run `npm ci`")
    version: str = json.loads(manifest.read_text())["version"]
    return version


def assemble(package: Path = PACKAGE) -> bytes:
    """The bundle's bytes, from the npm package's files."""
    asm = adapt_asm((package / "pyodide.asm.mjs").read_text())
    return encode_bundle(
        [
            Module(MODULE_PREFIX + "pyodide.asm", Body.SRC, asm.encode()),
            Module(
                MODULE_PREFIX + "pyodide.asm.wasm",
                Body.WASM,
                (package / "pyodide.asm.wasm").read_bytes(),
            ),
            Module(
                MODULE_PREFIX + "python_stdlib.zip",
                Body.DATA,
                (package / "python_stdlib.zip").read_bytes(),
            ),
        ]
    )


def _stamp(package: Path) -> str:
    recipe = json.dumps([package_version(package), PATCHES, IMPORTED]).encode()
    return hashlib.sha256(recipe).hexdigest()


def ensure(cache_dir: Path = CACHE_DIR, package: Path = PACKAGE) -> Path:
    """The bundle cache folder workerd should be given, with the bundle up to date in it."""
    bundle = cache_dir / f"pyodide_{BUNDLE_NAME}.capnp.bin"
    stamp_file = cache_dir / f"pyodide_{BUNDLE_NAME}.stamp"
    stamp = _stamp(package)
    if bundle.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return cache_dir
    write_atomically(bundle, assemble(package))
    stamp_file.write_text(stamp)
    return cache_dir
