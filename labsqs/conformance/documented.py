"""What SQS documents, as the conformance checks hold an engine to it: their own copies of SQS's numbers.

These numbers repeat :mod:`labsqs.base.limits` **on purpose**. The checks test an engine against the
documentation (the SQS Developer Guide, the API Reference and ``/work/shared/facts/sqs-limits.md``), so
they must not trust the lab's own values: a wrong number in ``base.limits`` would otherwise make the lab
and its conformance suite agree on the same mistake. ``tests/test_architecture.py`` exempts
``labsqs.conformance`` from its "every SQS number once" rule for this reason; nothing else may import
these names. They carry the names ``base.limits`` gives the same numbers, and ``tests/test_conformance.py``
checks that the two readings of the documentation agree (when they do not, one of them is wrong).

The digests SQS computes (MD5 of a body, MD5 of the message attributes) are spelled out here for the same
reason: the checks compute what the documentation says and compare it with what the engine returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

# --- sizes and ranges (sqs-limits.md) --------------------------------------------------------------
MAX_MESSAGE_BYTES = 1_048_576  # 1 MiB, counted in UTF-8 bytes, attributes included
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200
DEFAULT_RETENTION_SECONDS = 345_600  # 4 days
MIN_RETENTION_SECONDS = 60
MAX_RETENTION_SECONDS = 1_209_600  # 14 days
MAX_DELAY_SECONDS = 900
MAX_WAIT_TIME_SECONDS = 20
MAX_MESSAGES_PER_RECEIVE = 10
MAX_BATCH_ENTRIES = 10
MAX_BATCH_ENTRY_ID_CHARS = 80
MAX_QUEUE_NAME_CHARS = 80
MIN_MESSAGE_SIZE_BYTES = 1_024


# --- digests (API Reference 'SendMessage'; Developer Guide, message attributes) ----------------------
def md5_hex(data: bytes) -> str:
    """The MD5 digest SQS returns as ``MD5OfMessageBody`` (of the body's UTF-8 bytes)."""
    return hashlib.md5(data).hexdigest()  # noqa: S324 - SQS's own integrity digest, not security


def md5_of_message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """MD5OfMessageAttributes as the Developer Guide defines it.

    ("Calculating the MD5 message digest for message attributes"): for each attribute, sorted by name,
    append the name, the data type (each as a 4-byte big-endian length then UTF-8 bytes), one
    transport byte (1 = String/Number, 2 = Binary) and the value (length + bytes); MD5 the whole.
    """
    buf = bytearray()

    def put(data: bytes) -> None:
        buf.extend(len(data).to_bytes(4, "big"))
        buf.extend(data)

    for name in sorted(attributes):
        value = attributes[name]
        put(name.encode())
        put(value["DataType"].encode())
        if "BinaryValue" in value:
            buf.append(2)
            raw = value["BinaryValue"]
            put(raw if isinstance(raw, bytes) else bytes(raw))
        else:
            buf.append(1)
            put(value["StringValue"].encode())
    return md5_hex(bytes(buf))
