"""Dashboard passwords: Argon2id hashes (RFC 9106) via argon2-cffi.

Length rules follow NIST SP 800-63B-4 for passwords used alone: at least 15 characters, any
characters, no composition rules; at most 1,024 so hashing cost stays bounded.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from watchkeeper.auth.exceptions import InvalidUser

MIN_LENGTH = 15
MAX_LENGTH = 1024


@functools.cache
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults are RFC 9106's second recommended option (64 MiB, 3 passes).
    return PasswordHasher()


def check_new(password: str) -> str:
    """A password acceptable to set, or InvalidUser saying what is wrong."""
    if len(password) < MIN_LENGTH:
        raise InvalidUser(f"password: use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidUser(f"password: use at most {MAX_LENGTH} characters")
    if "\x00" in password:
        raise InvalidUser("password: must not contain a NUL character")
    return password


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` with a fresh salt."""
    return _hasher().hash(password)


def verify(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


@functools.cache
def decoy_hash() -> str:
    """A hash of nothing anyone knows, verified for unknown users so they take as long."""
    return hash_password("decoy password that no account has")
