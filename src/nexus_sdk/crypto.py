"""Application-layer encryption of OAuth tokens with AES-256-GCM.

``platform_connections.access_token`` and ``refresh_token`` are TEXT columns that hold, instead of the
token, a self-describing value (``docs/encryption.md`` is the normative specification)::

    nx1:<key id>:<base64( nonce[12] || ciphertext || tag[16] )>

- ``nx1:`` names the format version, so encrypted values and legacy plaintext tokens can be told apart.
- The key id says which key of the :class:`KeyRing` encrypted the value, so keys rotate without downtime:
  the first key of ``NEXUS_ENCRYPTION_KEYS`` encrypts, every key decrypts.
- The associated data is the header (``nx1:<key id>:``) followed by :func:`token_aad`, which names the
  table, the column and the row's natural key (``user_id``, ``platform``): a value copied to another
  user's row, another platform or the other token column therefore fails to decrypt. Binding to the
  natural key rather than the row id lets an upsert encrypt before it knows the row's id.

Key material never appears in a ``repr``, ``str``, log line or exception message, and neither does a
token. :meth:`KeyRing.decrypt` returns ``str`` for the model layer to wrap; :meth:`KeyRing.decrypt_secret`
returns a :class:`pydantic.SecretStr`.

Rotation is a header check (:meth:`KeyRing.needs_rotation`), a re-encryption of one value
(:meth:`KeyRing.reencrypt`) or of a batch (:meth:`KeyRing.rotate_batch`); none of them touches the
database, so ``nexus-sdk keys rotate`` is a loop over pages of rows around them.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Generic, TypeVar

import pybase64

from nexus_sdk import _env
from nexus_sdk._types import uuid_text
from nexus_sdk.errors import ConfigurationError, DecryptionError, ValidationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from pydantic import SecretStr

__all__ = [
    "ENV_VAR",
    "FORMAT_PREFIX",
    "KEY_SIZE",
    "MAX_REPORTED_FAILURES",
    "NONCE_SIZE",
    "TAG_SIZE",
    "EncryptionKey",
    "KeyRing",
    "RotationBatch",
    "RotationFailure",
    "RotationStats",
    "generate_key_id",
    "is_encrypted",
    "token_aad",
]

ENV_VAR: Final = _env.NEXUS_ENCRYPTION_KEYS
"""The environment variable holding the key ring: ``"<id>:<base64url key>,<id>:<base64url key>,..."``."""
FORMAT_PREFIX: Final = "nx1:"
"""The prefix of every value written by this version of the format."""
KEY_SIZE: Final = 32
"""Bytes in a key: AES-256."""
NONCE_SIZE: Final = 12
"""Bytes in a nonce: the 96 bits GCM is designed for, fresh and random for each encryption."""
TAG_SIZE: Final = 16
"""Bytes in the GCM authentication tag (128 bits)."""

_KEY_ID_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_KEY_ID_RULE: Final = "1-32 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit"
# Anything that looks like "nx<digits>:" is an encrypted value of some format version, never plaintext.
_VERSIONED_RE: Final = re.compile(r"nx([0-9]+):")
_IDENT_RE: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_AAD_LABEL: Final = "nx-aad-1"
# 32 bytes in base64url: 43 characters, optionally one "=" of padding.
_KEY_B64_RE: Final = re.compile(r"[A-Za-z0-9_-]{43}=?")
_MIN_PAYLOAD: Final = NONCE_SIZE + TAG_SIZE
_PREFIX_LEN: Final = len(FORMAT_PREFIX)
_urandom: Final = os.urandom
# pybase64 (SIMD) instead of the base64 module: for a 2 KB token the stdlib's encode+decode costs about
# twice the AES-GCM work itself. Its C functions parse keyword arguments slowly, so the strict decode
# passes `validate` positionally: b64decode(s, altchars, validate).
_b64encode: Final = pybase64.b64encode_as_string
_b64decode: Final = pybase64.b64decode
# In canonical base64 the bits after the last byte are zero: before "==" the last character encodes
# 6 bits of which only the top 2 are data, before "=" only the top 4 are. Other characters there would
# decode to the same bytes, so a changed value could still decrypt; we refuse them.
_CANONICAL_BEFORE_2PAD: Final = frozenset("AQgw")
_CANONICAL_BEFORE_1PAD: Final = frozenset("AEIMQUYcgkosw048")

_MALFORMED: Final = "malformed"
_UNKNOWN_VERSION: Final = "unknown_version"
_UNKNOWN_KEY: Final = "unknown_key"
_AUTH_FAILED: Final = "authentication_failed"
_PLAINTEXT: Final = "plaintext"


def generate_key_id(now: dt.datetime | None = None) -> str:
    """Make a fresh key id: ``k`` + the UTC date + ``-`` + 6 random hex digits, e.g. ``k20260509-3fa9c2``.

    The date sorts keys by age at a glance; the random part keeps two keys made the same day apart.

    Args:
        now: The time to take the date from; the current UTC time if omitted.

    Returns:
        The key id.
    """
    when = now if now is not None else dt.datetime.now(dt.UTC)
    return f"k{when:%Y%m%d}-{secrets.token_hex(3)}"


def token_aad(*, table: str, column: str, user_id: uuid.UUID | str, platform: str) -> bytes:
    """Build the associated data that binds an encrypted token to one account and one column.

    A token belongs to one user's account on one platform, so it is bound to the row's natural key, the
    unique ``(user_id, platform)``, rather than to its id: the SDK can then encrypt before it knows which
    row an upsert lands on, and write it in one request. The result is the UTF-8 text
    ``nx-aad-1/<table>/<column>/<user id>/<platform>``, the user id in canonical lowercase form and the
    platform exactly as stored in the row. Table and column names are SQL identifiers and a UUID has a
    fixed form, none of them containing ``/``; the platform comes last, so the encoding is unambiguous.
    A value copied to another user's row, another platform, or the other token column fails to decrypt.

    Args:
        table: The table, e.g. ``"platform_connections"``.
        column: The column, e.g. ``"access_token"`` or ``"refresh_token"``.
        user_id: The owner of the row (``platform_connections.user_id``).
        platform: The row's platform as stored, e.g. ``"linkedin"`` (the SDK writes it in lower case).

    Returns:
        The associated data to pass as ``aad`` to :meth:`KeyRing.encrypt` and :meth:`KeyRing.decrypt`.

    Raises:
        ValidationError: ``table`` or ``column`` is not a lowercase SQL identifier, ``user_id`` is not a
            UUID, or ``platform`` is empty or not text.
    """
    for name, value in (("table", table), ("column", column)):
        if not isinstance(value, str) or not _IDENT_RE.fullmatch(value):
            raise ValidationError.at(
                name, f"token_aad: {name} must be a lowercase SQL identifier", "value_error"
            )
    uid = uuid_text("user_id", user_id)
    if not isinstance(platform, str) or not platform:
        raise ValidationError.at("platform", "token_aad: platform must be a non-empty string", "value_error")
    try:
        return f"{_AAD_LABEL}/{table}/{column}/{uid}/{platform}".encode()
    except UnicodeEncodeError:
        pass  # a lone surrogate; raised below so the platform text is not chained to our error
    raise ValidationError.at("platform", "token_aad: platform is not valid Unicode text", "string_unicode")


def is_encrypted(value: str) -> bool:
    """Tell an encrypted value (of any format version) from a legacy plaintext token.

    Only the prefix is looked at: ``nx<digits>:``. Nothing is decrypted or validated.

    Args:
        value: A value read from a token column.

    Returns:
        True when the value claims to be encrypted.
    """
    return _VERSIONED_RE.match(value) is not None


def _decode_key_material(text: str) -> bytes:
    """Decode a base64url key strictly; the ``ValueError`` message names the problem, never the data."""
    if not _KEY_B64_RE.fullmatch(text):
        # Decode leniently only to say how long the key is; the text may be a mistyped secret.
        stripped = text.rstrip("=")
        if re.fullmatch(r"[A-Za-z0-9_-]*", stripped) and len(stripped) % 4 != 1:
            size = len(base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4)))
            if size == KEY_SIZE:
                # The right length, so the only fault left is the padding: say that, not "got 32".
                padding = len(text) - len(stripped)
                raise ValueError(
                    f"the key has {padding} '=' of padding; a {KEY_SIZE}-byte key takes at most one "
                    "(remove the extra '=')"
                )
            raise ValueError(f"the key must be {KEY_SIZE} bytes (AES-256), got {size}")
        raise ValueError("the key is not valid base64url (A-Z a-z 0-9 - _, optional '=' padding)")
    raw = base64.urlsafe_b64decode(text if text.endswith("=") else text + "=")
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != text.rstrip("="):
        raise ValueError("the key is not canonical base64url (its last character has stray bits)")
    return raw


class EncryptionKey:
    """One AES-256 key and its id; the key material never appears in ``repr`` or ``str``.

    The AES-GCM object is built once here and reused for every value this key touches.
    """

    __slots__ = (
        "_aead",
        "_decrypt",
        "_encrypt",
        "_header",
        "_header_bytes",
        "_header_len",
        "_secret",
        "key_id",
    )

    key_id: str
    """The key's name, written in clear into every value it encrypts; not a secret."""

    def __init__(self, key_id: str, secret: bytes) -> None:
        """Wrap raw key material.

        Args:
            key_id: The key's name (1-32 characters from ``A-Z a-z 0-9 . _ -``).
            secret: Exactly 32 random bytes.

        Raises:
            ConfigurationError: The id or the key is malformed, or the key is all zero bytes.
        """
        if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
            raise ConfigurationError(f"Encryption key id is invalid: use {_KEY_ID_RULE}.")
        if not isinstance(secret, bytes | bytearray) or len(secret) != KEY_SIZE:
            size = len(secret) if isinstance(secret, bytes | bytearray) else "not bytes"
            raise ConfigurationError(
                f"Encryption key {key_id!r} must be {KEY_SIZE} bytes (AES-256), got {size}."
            )
        if not any(secret):
            # An all-zero key is what an uninitialised buffer or a placeholder looks like, never a real key.
            raise ConfigurationError(f"Encryption key {key_id!r} is all zero bytes.")
        # Imported here, not at module level: cryptography's bindings take ~20 ms to load, and
        # `import nexus_sdk` should not pay that unless tokens are actually encrypted.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.key_id = key_id
        self._secret = bytes(secret)
        self._aead: AESGCM = AESGCM(self._secret)
        self._header = f"{FORMAT_PREFIX}{key_id}:"
        self._header_bytes = self._header.encode("ascii")
        self._header_len = len(self._header)
        # Bound once: on a 2 KB token the per-call attribute lookups are a measurable share of the cost.
        self._encrypt = self._aead.encrypt
        self._decrypt = self._aead.decrypt

    @classmethod
    def generate(cls, key_id: str | None = None) -> EncryptionKey:
        """Make a new random key from the operating system's CSPRNG.

        Args:
            key_id: The id to give it; a fresh one from :func:`generate_key_id` if omitted.

        Returns:
            The new key.

        Raises:
            ConfigurationError: ``key_id`` is malformed.
        """
        return cls(key_id if key_id is not None else generate_key_id(), secrets.token_bytes(KEY_SIZE))

    @classmethod
    def parse(cls, entry: str) -> EncryptionKey:
        """Read one ``<id>:<base64url key>`` entry, the form :meth:`export` writes.

        Args:
            entry: The entry; spaces around the id and the key are ignored.

        Returns:
            The key.

        Raises:
            ConfigurationError: The entry has no id, a malformed id, or a key that is not 32 bytes of
                canonical base64url.
        """
        key_id, sep, material = entry.partition(":")
        key_id, material = key_id.strip(), material.strip()
        if not sep or not key_id:
            # Do not echo the entry: without a separator it may be nothing but the key.
            raise ConfigurationError("Encryption key entry has no key id: expected '<id>:<base64url key>'.")
        if not _KEY_ID_RE.fullmatch(key_id):
            raise ConfigurationError(f"Encryption key id is invalid: use {_KEY_ID_RULE}.")
        if not material:
            raise ConfigurationError(f"Encryption key {key_id!r} is empty.")
        try:
            secret = _decode_key_material(material)
        except ValueError as exc:
            raise ConfigurationError(f"Encryption key {key_id!r}: {exc}.") from exc
        return cls(key_id, secret)

    def export(self) -> str:
        """Return the key as ``<id>:<base64url key>`` (unpadded), the entry format of ``NEXUS_ENCRYPTION_KEYS``.

        This reveals the key material: write it only to a secret store.

        Returns:
            The entry.
        """
        return f"{self.key_id}:{base64.urlsafe_b64encode(self._secret).decode('ascii').rstrip('=')}"

    def __repr__(self) -> str:
        return f"EncryptionKey(key_id={self.key_id!r}, secret=<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would put the key material into whatever stores the pickle (caches, task queues).
        raise TypeError("EncryptionKey cannot be pickled; load keys from the environment instead.")


@dataclass(frozen=True, slots=True)
class RotationFailure:
    """One value a rotation could not re-encrypt: which row, which column, and why (never the value)."""

    row_id: str | None
    """The row's id (``None`` when the row came without one)."""
    column: str
    """The token column, e.g. ``"access_token"``."""
    reason: str
    """A :class:`~nexus_sdk.errors.DecryptionError` reason (``"unknown_key"``, ``"authentication_failed"``,
    ``"plaintext"``, ``"malformed"``, ``"unknown_version"``), or ``"write_conflict"`` when other writers
    changed the row at every one of the rotation's attempts to write it."""

    def __str__(self) -> str:
        return f"row {self.row_id} {self.column}: {self.reason}"


MAX_REPORTED_FAILURES: Final = 1000
"""At most this many :class:`RotationFailure` entries are kept in :attr:`RotationStats.failures`; every
failure is counted in :attr:`RotationStats.failed` all the same."""


@dataclass(slots=True)
class RotationStats:
    """Counts from re-encrypting token values under the current key, and which values failed.

    Batches add up with ``+``, so a resumable rotation keeps one running total.
    """

    read: int = 0
    """Values looked at (nulls are not counted)."""
    reencrypted: int = 0
    """Values that were under an older key (or legacy plaintext) and now have a new value."""
    already_current: int = 0
    """Values already under the current key: left alone, which makes rotation idempotent."""
    failed: int = 0
    """Values that could not be decrypted (unknown key, tampered, plaintext without opt-in ...)."""
    changed_meanwhile: int = 0
    """Values replaced by another writer (e.g. a refreshed token) between the read and the write with a
    value already under the current key, cleared, or deleted with their row: left as they are. (A
    repository rotation reads such a row again; a replacement still under an older key is re-encrypted
    and counted in ``reencrypted``.)"""
    failures: list[RotationFailure] = field(default_factory=list, compare=False)
    """What failed, value by value: row id, column, reason (the first :data:`MAX_REPORTED_FAILURES`).
    Filled by a repository rotation (``platform_connections.rotate_keys()``, ``nexus-sdk keys rotate``),
    which knows the rows; :meth:`KeyRing.rotate_batch` reports its failures in :attr:`RotationBatch.failures`."""

    def __add__(self, other: RotationStats) -> RotationStats:
        return RotationStats(
            read=self.read + other.read,
            reencrypted=self.reencrypted + other.reencrypted,
            already_current=self.already_current + other.already_current,
            failed=self.failed + other.failed,
            changed_meanwhile=self.changed_meanwhile + other.changed_meanwhile,
            failures=(self.failures + other.failures)[:MAX_REPORTED_FAILURES],
        )


_K = TypeVar("_K")


@dataclass(slots=True)
class RotationBatch(Generic[_K]):
    """What :meth:`KeyRing.rotate_batch` found in one batch; nothing in it has been written yet."""

    updates: list[tuple[_K, str, str]] = field(default_factory=list)
    """``(ref, old value, new value)`` for each value to write back. Write with the old value as a
    condition (``... WHERE access_token = old``) so a token replaced meanwhile is not overwritten."""
    failures: list[tuple[_K, DecryptionError]] = field(default_factory=list)
    """``(ref, error)`` for each value that could not be decrypted; ``error.reason`` says why."""
    stats: RotationStats = field(default_factory=RotationStats)
    """The counts for this batch."""


class KeyRing:
    """The keys tokens are encrypted with: the first encrypts, every key decrypts.

    To rotate, put a new key first and keep the old ones after it until ``nexus-sdk keys rotate`` has
    re-encrypted every value; then drop the old ones. Neither ``repr`` nor ``str`` shows key material.
    """

    __slots__ = ("_by_head", "_by_id", "_current", "_keys", "_sealer", "allow_plaintext")

    allow_plaintext: bool
    """Whether :meth:`decrypt` may return a legacy unencrypted value as it is (off unless asked for)."""

    def __init__(self, keys: Iterable[EncryptionKey], *, allow_plaintext: bool = False) -> None:
        """Build a ring from keys, newest first.

        Args:
            keys: The keys; the first encrypts.
            allow_plaintext: Let :meth:`decrypt` pass legacy plaintext values through by default.

        Raises:
            ConfigurationError: No keys, two keys with one id, or one key under two ids.
        """
        ordered = tuple(keys)
        if not ordered:
            raise ConfigurationError(
                f"No encryption keys: set {ENV_VAR} (create one with `nexus-sdk keys new`)."
            )
        for index, key in enumerate(ordered):
            _check_distinct(key, ordered[:index])
        by_id = {key.key_id: key for key in ordered}
        self._keys = ordered
        self._by_id = by_id
        # Keyed by the header without its final colon, as str.rpartition(":") leaves it.
        self._by_head = {key._header[:-1]: key for key in ordered}
        self._current = ordered[0]
        # What encrypt needs from the current key, unpacked in one step instead of one lookup each.
        self._sealer = (self._current._header, self._current._header_bytes, self._current._encrypt)
        self.allow_plaintext = allow_plaintext

    @classmethod
    def parse(cls, text: str | SecretStr, *, allow_plaintext: bool = False) -> KeyRing:
        """Read a ring in the ``NEXUS_ENCRYPTION_KEYS`` format: comma-separated ``<id>:<base64url key>``.

        Spaces and newlines around entries are ignored, and so are empty entries (a trailing comma).

        Args:
            text: The ring, as a string or a ``SecretStr``.
            allow_plaintext: See :attr:`allow_plaintext`.

        Returns:
            The ring.

        Raises:
            ConfigurationError: The text has no entries, or an entry is malformed (the message says which
                entry and why, never the key).
        """
        raw = text if isinstance(text, str) else text.get_secret_value()
        entries = [entry.strip() for entry in raw.split(",")]
        keys: list[EncryptionKey] = []
        for position, entry in enumerate(entries, start=1):
            if not entry:
                continue
            try:
                key = EncryptionKey.parse(entry)
                # Checked here as well as in __init__, so that the message names the entry.
                _check_distinct(key, keys)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{ENV_VAR} entry {position}: {exc.message}") from exc
            keys.append(key)
        if not keys:
            raise ConfigurationError(
                f"{ENV_VAR} is empty: set it to '<id>:<base64url key>' (create one with `nexus-sdk keys new`)."
            )
        return cls(keys, allow_plaintext=allow_plaintext)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, allow_plaintext: bool = False) -> KeyRing:
        """Read the ring from ``NEXUS_ENCRYPTION_KEYS``.

        Args:
            environ: Where to look; ``os.environ`` if omitted.
            allow_plaintext: See :attr:`allow_plaintext`.

        Returns:
            The ring.

        Raises:
            ConfigurationError: The variable is unset or empty, or malformed.
        """
        env = os.environ if environ is None else environ
        text = env.get(ENV_VAR)
        if text is None:
            # Only a first key may be made up: tokens already stored need the keys they were encrypted with.
            raise ConfigurationError(
                f"{ENV_VAR} is not set: set it to the keys your stored tokens were encrypted with, or, for a "
                f'first key, export {ENV_VAR}="$(nexus-sdk keys new)".'
            )
        return cls.parse(text, allow_plaintext=allow_plaintext)

    @property
    def current(self) -> EncryptionKey:
        """The key new values are encrypted with (the first one)."""
        return self._current

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of all keys, current first."""
        return tuple(key.key_id for key in self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._by_id

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self.key_ids!r}, allow_plaintext={self.allow_plaintext!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("KeyRing cannot be pickled; load keys from the environment instead.")

    def encrypt(self, plaintext: str | SecretStr, *, aad: bytes) -> str:
        """Encrypt a token under the current key with a fresh random nonce.

        Args:
            plaintext: The token; a ``SecretStr`` is unwrapped.
            aad: Associated data from :func:`token_aad` naming the row and column the value is for.

        Returns:
            ``nx1:<key id>:<base64>``, ready for a TEXT column.

        Raises:
            ValidationError: The token contains a lone surrogate, so it has no UTF-8 form.
        """
        try:
            # A str is encoded directly; a SecretStr has no `encode` and takes the slower path below. This
            # is cheaper than testing the type first, which every call of the fast path would pay.
            data = plaintext.encode()  # type: ignore[union-attr]
        except UnicodeEncodeError:
            # A lone surrogate (e.g. from a "\ud800" JSON escape). Raised below, outside this block, so
            # the UnicodeEncodeError, which holds the whole token, is not chained to ours.
            secret = False
        except AttributeError:
            secret = True
        else:
            header, header_bytes, seal = self._sealer
            nonce = _urandom(NONCE_SIZE)
            # One base64 call over nonce || sealed: the call's fixed cost is larger than copying 2 KB (and
            # cheaper than AESGCM.encrypt_into a preallocated buffer, which takes the slower buffer path).
            return header + _b64encode(nonce + seal(nonce, data, header_bytes + aad))
        if secret:
            # Outside the except block, so a failure here is not chained to the AttributeError.
            return self.encrypt(plaintext.get_secret_value(), aad=aad)  # type: ignore[union-attr]
        raise ValidationError.at(
            "plaintext", "Token is not valid Unicode text (it contains a lone surrogate).", "string_unicode"
        )

    def decrypt(self, value: str, *, aad: bytes, allow_plaintext: bool | None = None) -> str:
        """Decrypt a value written by :meth:`encrypt`, checking it belongs to this row and column.

        Args:
            value: The stored value.
            aad: The same associated data it was encrypted with (:func:`token_aad`).
            allow_plaintext: Return a value without an ``nx<n>:`` prefix unchanged, as a legacy plaintext
                token; defaults to the ring's :attr:`allow_plaintext`.

        Returns:
            The token.

        Raises:
            DecryptionError: With ``reason`` ``"plaintext"`` (not encrypted, and plaintext not allowed),
                ``"unknown_version"``, ``"malformed"`` (bad encoding, truncated), ``"unknown_key"`` (key id
                not in the ring) or ``"authentication_failed"`` (wrong key, tampered, or another row's or
                column's value). Nothing of the token or the key is in the message.
        """
        # One C call splits header and payload: base64 has no ":", so the part before the last colon is
        # "nx1:<key id>" for every well-formed value, and one dict lookup checks version and key id
        # together (cheaper than str.startswith, whose argument parsing costs more than the comparison).
        # Anything else, including a payload with a stray ":", is sorted out in _decrypt_other.
        head, _, payload = value.rpartition(":")
        key = self._by_head.get(head)
        if key is None:
            return self._decrypt_other(value, allow_plaintext)
        if value[-1] == "=":
            _check_canonical_padding(value)
        try:
            sealed = _b64decode(payload, None, True)
        except ValueError:
            # binascii.Error is a ValueError. Its message names the problem, not the data; still, it is
            # not chained, so that nothing derived from the value travels with our exception.
            sealed = None
        if sealed is None:
            raise DecryptionError("Encrypted token is malformed: not valid base64.", reason=_MALFORMED)
        try:
            # Slices copy, but bytes are AESGCM's fast path: a memoryview costs more than the copy.
            plain = key._decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], key._header_bytes + aad)
        except Exception as exc:
            # The length is checked only here, off the fast path: a payload shorter than nonce + tag
            # always fails in AESGCM (a short nonce is a ValueError, a short ciphertext an InvalidTag).
            raise _open_failure(key, sealed, exc) from (None if len(sealed) < _MIN_PAYLOAD else exc)
        try:
            return plain.decode()
        except UnicodeDecodeError:
            # Raised below, outside this block, so the error's context (which holds the decrypted
            # bytes) is not chained to ours.
            pass
        raise DecryptionError(
            "Encrypted token authenticated but is not UTF-8 text; it was not written by nexus-sdk.",
            reason=_MALFORMED,
        )

    def _decrypt_other(self, value: str, allow_plaintext: bool | None) -> str:
        """Handle a value whose header names no key of this ring: an error, or legacy plaintext."""
        if is_encrypted(value):
            raise self._header_error(value)
        if self.allow_plaintext if allow_plaintext is None else allow_plaintext:
            return value
        raise DecryptionError(
            "Value is not an encrypted token (no 'nx1:' prefix). To read legacy plaintext tokens, pass "
            "allow_plaintext=True; `nexus-sdk keys rotate` can encrypt them.",
            reason=_PLAINTEXT,
        )

    def decrypt_secret(self, value: str, *, aad: bytes, allow_plaintext: bool | None = None) -> SecretStr:
        """Like :meth:`decrypt`, but wrap the token in a :class:`pydantic.SecretStr`.

        Args:
            value: The stored value.
            aad: The associated data it was encrypted with.
            allow_plaintext: As in :meth:`decrypt`.

        Returns:
            The token, hidden from ``repr`` and ``str``.

        Raises:
            DecryptionError: As in :meth:`decrypt`.
        """
        from pydantic import SecretStr

        return SecretStr(self.decrypt(value, aad=aad, allow_plaintext=allow_plaintext))

    def needs_rotation(self, value: str) -> bool:
        """Tell whether a value is not yet an ``nx1`` value under the current key, from its header alone.

        True for values under older keys, unknown keys or other format versions, for malformed values
        and for legacy plaintext; nothing is decrypted, so this is cheap enough to filter every row.

        Args:
            value: The stored value.

        Returns:
            False only when the value is already under the current key.
        """
        return not value.startswith(self._current._header)

    def reencrypt(self, value: str, *, aad: bytes, allow_plaintext: bool | None = None) -> str | None:
        """Re-encrypt a value under the current key, if it is not already.

        Args:
            value: The stored value.
            aad: The associated data it was (and will be) encrypted with.
            allow_plaintext: Encrypt legacy plaintext values too; defaults to :attr:`allow_plaintext`.

        Returns:
            The new value, or None when the value is already under the current key (so running a
            rotation twice changes nothing the second time).

        Raises:
            DecryptionError: The value cannot be decrypted, as in :meth:`decrypt`.
        """
        if not self.needs_rotation(value):
            return None
        return self.encrypt(self.decrypt(value, aad=aad, allow_plaintext=allow_plaintext), aad=aad)

    def rotate_batch(
        self, items: Iterable[tuple[_K, str | None, bytes]], *, allow_plaintext: bool | None = None
    ) -> RotationBatch[_K]:
        """Re-encrypt a batch of values under the current key, without any I/O.

        Args:
            items: ``(ref, value, aad)`` per value; ``ref`` is whatever identifies the value to the
                caller (e.g. ``(row id, column)``). ``None`` values (a missing refresh token) are skipped.
            allow_plaintext: Encrypt legacy plaintext values too; defaults to :attr:`allow_plaintext`.

        Returns:
            The updates to write, the failures, and the counts. A failure does not stop the batch.
        """
        batch: RotationBatch[_K] = RotationBatch()
        stats = batch.stats
        for ref, value, aad in items:
            if value is None:
                continue
            stats.read += 1
            try:
                new = self.reencrypt(value, aad=aad, allow_plaintext=allow_plaintext)
            except DecryptionError as exc:
                stats.failed += 1
                batch.failures.append((ref, exc))
                continue
            if new is None:
                stats.already_current += 1
            else:
                stats.reencrypted += 1
                batch.updates.append((ref, value, new))
        return batch

    def _header_error(self, value: str) -> DecryptionError:
        """Explain why a value's header was not accepted: version, shape or key id."""
        match = _VERSIONED_RE.match(value)
        if match is None or match.group(1) != FORMAT_PREFIX[2:-1]:
            digits = match.group(1) if match else ""
            version = f"nx{digits[:9]}{'...' if len(digits) > 9 else ''}" if match else "?"
            return DecryptionError(
                f"Encrypted token uses format version {version!r}, which this nexus-sdk cannot read "
                f"(it reads '{FORMAT_PREFIX[:-1]}'); upgrade nexus-sdk.",
                reason=_UNKNOWN_VERSION,
            )
        end = value.find(":", len(FORMAT_PREFIX))
        key_id = value[len(FORMAT_PREFIX) : end] if end >= 0 else ""
        if not _KEY_ID_RE.fullmatch(key_id):
            return DecryptionError(
                "Encrypted token is malformed: no valid key id after 'nx1:'.", reason=_MALFORMED
            )
        if key_id in self._by_id:
            # The header names a key we hold, but the payload contains a ":" (decrypt split there).
            return DecryptionError("Encrypted token is malformed: not valid base64.", reason=_MALFORMED)
        return DecryptionError(
            f"Encrypted token was written with key {key_id!r}, which is not in {ENV_VAR} "
            f"(it has {', '.join(self.key_ids)}); add that key back to decrypt it.",
            reason=_UNKNOWN_KEY,
        )


def _check_distinct(key: EncryptionKey, earlier: Iterable[EncryptionKey]) -> None:
    """Refuse a key whose id or material is already among ``earlier``; the message names ids only.

    Raises:
        ConfigurationError: The id appears twice, or the same material is under two ids (which would
            make a rotation that changes nothing).
    """
    for other in earlier:
        if other.key_id == key.key_id:
            raise ConfigurationError(f"Encryption key id {key.key_id!r} appears twice.")
        if secrets.compare_digest(other._secret, key._secret):
            raise ConfigurationError(
                f"Encryption key {key.key_id!r} repeats the material of key {other.key_id!r}."
            )


def _open_failure(key: EncryptionKey, sealed: bytes, exc: Exception) -> DecryptionError:
    """Classify a failed AES-GCM decryption: a truncated payload, or a tag that did not verify.

    Raises:
        Exception: ``exc`` again when it is neither (a bug, not a property of the value).
    """
    if len(sealed) < _MIN_PAYLOAD:
        return DecryptionError("Encrypted token is malformed: truncated.", reason=_MALFORMED)
    # Imported here for the same load-time reason as AESGCM; by now cryptography is loaded.
    from cryptography.exceptions import InvalidTag

    if not isinstance(exc, InvalidTag):
        raise exc
    return DecryptionError(
        f"Encrypted token did not authenticate under key {key.key_id!r}: the key with this id "
        "is not the one that encrypted it, the value was altered, or it was copied from another "
        "row or column.",
        reason=_AUTH_FAILED,
    )


def _check_canonical_padding(value: str) -> None:
    """Refuse stray bits in the last base64 character before the padding.

    pybase64's strict mode rejects characters outside the alphabet and missing or misplaced padding, but
    not these bits, which would let a changed value decode to the same bytes.
    """
    if value.endswith("=="):
        canonical = value[-3] in _CANONICAL_BEFORE_2PAD
    else:
        canonical = value[-2] in _CANONICAL_BEFORE_1PAD
    if not canonical:
        raise DecryptionError("Encrypted token is malformed: not canonical base64.", reason=_MALFORMED)
