"""Review findings on ``nexus_sdk.crypto``: strict version detection, key-ring errors, AAD injectivity.

Real ``cryptography``, no mocks.
"""

from __future__ import annotations

import base64
import unicodedata
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nexus_sdk.crypto import ENV_VAR, EncryptionKey, KeyRing, is_encrypted, token_aad
from nexus_sdk.errors import ConfigurationError, DecryptionError

USER = uuid.UUID("6f1c1d2e-8a5b-4c3d-9e7f-0a1b2c3d4e5f")
ACCESS = token_aad(table="platform_connections", column="access_token", user_id=USER, platform="linkedin")
SECRET_A = bytes(range(1, 33))
SECRET_B = bytes(range(101, 133))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@given(version=st.from_regex(r"[0-9]{1,40}", fullmatch=True).filter(lambda v: v != "1"))
def test_any_nx_digits_prefix_is_a_version_never_plaintext(version: str) -> None:
    ring = KeyRing([EncryptionKey("k1", SECRET_A)])
    value = ring.encrypt("token", aad=ACCESS).replace("nx1:", f"nx{version}:", 1)
    assert is_encrypted(value)
    for allow in (False, True):  # the spec: "nx<digits>:" other than "nx1:" is an unknown version
        with pytest.raises(DecryptionError) as info:
            ring.decrypt(value, aad=ACCESS, allow_plaintext=allow)
        assert info.value.reason == "unknown_version"
    assert ring.needs_rotation(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"k1:{b64url(SECRET_A)}, k2:{b64url(SECRET_B)}, k1:{b64url(bytes(range(7, 39)))}",
            ["entry 3", "'k1'"],
        ),
        (f"k1:{b64url(SECRET_A)},,k2:{b64url(SECRET_A)}", ["entry 3", "'k2'", "'k1'"]),
    ],
    ids=["same-id", "same-material"],
)
def test_duplicate_keys_name_the_entry_and_ids_but_never_the_key(text: str, expected: list[str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        KeyRing.parse(text)
    message = info.value.message
    assert message.startswith(f"{ENV_VAR} entry")
    for part in expected:
        assert part in message
    for secret in (SECRET_A, SECRET_B):
        assert b64url(secret)[:10] not in str(info.value) + repr(info.value)


_ids = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)
_platforms = st.one_of(
    st.sampled_from(["linkedin", "LinkedIn", "linkedin ", "link/edin", "x", "\u212aelvin", "kelvin"]),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
)


@given(
    a=st.tuples(_ids, _ids, st.uuids(), _platforms),
    b=st.tuples(_ids, _ids, st.uuids(), _platforms),
)
def test_distinct_bindings_never_share_associated_data(
    a: tuple[str, str, uuid.UUID, str], b: tuple[str, str, uuid.UUID, str]
) -> None:
    def aad(t: tuple[str, str, uuid.UUID, str]) -> bytes:
        return token_aad(table=t[0], column=t[1], user_id=t[2], platform=t[3])

    assert (aad(a) == aad(b)) == (a == b)


def test_platform_is_bound_exactly_as_stored() -> None:
    """No case folding or Unicode normalisation: the stored text decides, as in the database's filter."""
    nfc, nfd = unicodedata.normalize("NFC", "caf\u00e9"), unicodedata.normalize("NFD", "caf\u00e9")
    ring = KeyRing([EncryptionKey("k1", SECRET_A)])
    for stored, other in (("linkedin", "LinkedIn"), (nfc, nfd), ("kelvin", "\u212aelvin")):
        value = ring.encrypt("t", aad=token_aad(table="t", column="c", user_id=USER, platform=stored))
        with pytest.raises(DecryptionError) as info:
            ring.decrypt(value, aad=token_aad(table="t", column="c", user_id=USER, platform=other))
        assert info.value.reason == "authentication_failed"
    # The user id is canonicalised: every spelling of one UUID is the same binding.
    for spelling in (str(USER).upper(), USER.hex, f"{{{USER}}}", f"urn:uuid:{USER}"):
        assert token_aad(table="t", column="c", user_id=spelling, platform="x") == token_aad(
            table="t", column="c", user_id=USER, platform="x"
        )
