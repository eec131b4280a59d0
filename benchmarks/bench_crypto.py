"""Encrypt + decrypt of a 2 KB token: nexus_sdk.crypto against cryptography's AESGCM called directly.

Run ``python benchmarks/bench_crypto.py [--number N] [--repeat R]``. Both sides draw a fresh 12-byte nonce
from ``os.urandom`` and use associated data of the same length (our header plus ``token_aad``). The
script also times the text encoding the stored format needs (UTF-8 and base64, nothing else), so the
share of the gap that any TEXT-column format would pay is visible. Target: ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import os
import timeit
import uuid
from collections.abc import Callable

import pybase64
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nexus_sdk.crypto import EncryptionKey, KeyRing, token_aad

TOKEN_SIZE = 2048


def best_of(func: Callable[[], object], number: int, repeat: int) -> float:
    """Microseconds per call, best of ``repeat`` runs (the least disturbed by other processes)."""
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=7, help="timing runs; the best is reported")
    args = parser.parse_args()

    token = ("ya29." + "x" * TOKEN_SIZE)[:TOKEN_SIZE]
    ring = KeyRing([EncryptionKey.generate("kbench")])
    aad = token_aad(
        table="platform_connections", column="access_token", user_id=uuid.uuid4(), platform="linkedin"
    )

    raw_aead = AESGCM(AESGCM.generate_key(bit_length=256))
    raw_aad = os.urandom(len(ring.current.key_id) + len("nx1::") + len(aad))
    data = token.encode()

    def ours() -> None:
        ring.decrypt(ring.encrypt(token, aad=aad), aad=aad)

    def direct() -> None:
        nonce = os.urandom(12)
        raw_aead.decrypt(nonce, raw_aead.encrypt(nonce, data, raw_aad), raw_aad)

    def direct_with_text_encoding() -> None:
        # The least any TEXT-column format pays on top: str -> bytes, bytes -> base64 text and back.
        nonce = os.urandom(12)
        text = pybase64.b64encode_as_string(nonce + raw_aead.encrypt(nonce, token.encode(), raw_aad))
        sealed = pybase64.b64decode(text, None, True)
        raw_aead.decrypt(sealed[:12], sealed[12:], raw_aad).decode()

    assert ring.decrypt(ring.encrypt(token, aad=aad), aad=aad) == token
    for func in (ours, direct, direct_with_text_encoding):  # warm up
        func()

    t_direct = best_of(direct, args.number, args.repeat)
    t_ours = best_of(ours, args.number, args.repeat)
    t_floor = best_of(direct_with_text_encoding, args.number, args.repeat)
    ratio = t_ours / t_direct
    print(
        f"token: {TOKEN_SIZE} bytes, associated data: {len(raw_aad)} bytes, best of {args.repeat} x {args.number}"
    )
    print(f"AESGCM directly (encrypt + decrypt):          {t_direct:8.2f} us")
    print(f"AESGCM + UTF-8 + base64 (format's floor):     {t_floor:8.2f} us  ({t_floor / t_direct:.2f}x)")
    print(f"nexus_sdk.crypto KeyRing.encrypt + decrypt:   {t_ours:8.2f} us")
    print(f"ratio ours / direct: {ratio:.2f}x (target <= 1.5x); ours / floor: {t_ours / t_floor:.2f}x")


if __name__ == "__main__":
    main()
