"""Encode workerd's Pyodide bundle: a Cap'n Proto message whose root is `Bundle`.

The schema (workerd's `jsg/modules.capnp`), with the layout `capnp compile -ocapnp`
reports for it:

    struct Bundle { modules @0 :List(Module); }          # 0 data words, 1 pointer
    struct Module {                                      # 1 data word, 4 pointers
      name @0 :Text;                                     # ptr[0]
      union { src @1 :Data; wasm @4 :Data; data @5 :Data; json @6 :Text; }
                                                         # ptr[1], tag bits [16, 32)
      tsDeclaration @3 :Text;                            # ptr[2]
      type @2 :ModuleType;                               # bits [0, 16)
      compileCache @7 :Data;                             # ptr[3]
    }
    enum ModuleType { bundle @0; builtin @1; internal @2; }

Only what the bundle needs is written: a single-segment, unpacked message.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass


class Body(enum.IntEnum):
    """The `Module` union's member, by its discriminant."""

    SRC = 0
    WASM = 1
    DATA = 2


class ModuleType(enum.IntEnum):
    BUNDLE = 0
    BUILTIN = 1
    INTERNAL = 2


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    body: Body
    content: bytes
    type: ModuleType = ModuleType.INTERNAL


_MODULE_DATA_WORDS = 1
_MODULE_POINTERS = 4
_MODULE_WORDS = _MODULE_DATA_WORDS + _MODULE_POINTERS
_BYTE_ELEMENTS = 2
_COMPOSITE_ELEMENTS = 7


def _struct_pointer(offset: int, data_words: int, pointers: int) -> bytes:
    return struct.pack("<iHH", offset << 2, data_words, pointers)


def _list_pointer(offset: int, element_size: int, count: int) -> bytes:
    return struct.pack("<iI", (offset << 2) | 1, element_size | (count << 3))


def _padded(blob: bytes) -> bytes:
    return blob + b"\0" * (-len(blob) % 8)


def encode_bundle(modules: list[Module]) -> bytes:
    """The framed message: segment table, then one segment of 8-byte words."""
    count = len(modules)
    # Words: 0 root pointer, 1 Bundle (its one pointer), 2 list tag, 3.. the Module structs.
    first_module = 3
    blobs_start = first_module + count * _MODULE_WORDS
    structs = bytearray()
    blobs = bytearray()

    def blob_pointer(slot_word: int, blob: bytes) -> bytes:
        start = blobs_start + len(blobs) // 8
        blobs.extend(_padded(blob))
        return _list_pointer(start - slot_word - 1, _BYTE_ELEMENTS, len(blob))

    for index, module in enumerate(modules):
        base = first_module + index * _MODULE_WORDS
        pointers_at = base + _MODULE_DATA_WORDS
        structs += struct.pack("<HHxxxx", module.type, module.body)
        structs += blob_pointer(pointers_at, module.name.encode() + b"\0")
        structs += blob_pointer(pointers_at + 1, module.content)
        structs += b"\0" * 16  # no tsDeclaration, no compileCache

    segment = bytearray()
    segment += _struct_pointer(0, 0, 1)  # root -> Bundle at word 1
    segment += _list_pointer(0, _COMPOSITE_ELEMENTS, count * _MODULE_WORDS)  # -> tag at word 2
    segment += _struct_pointer(count, _MODULE_DATA_WORDS, _MODULE_POINTERS)  # the list's tag
    segment += structs + blobs
    words = len(segment) // 8
    return struct.pack("<II", 0, words) + bytes(segment)
