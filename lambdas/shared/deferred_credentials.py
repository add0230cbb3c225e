"""Credentials looked up when a request is first signed, not when a client is built.

botocore resolves the credential chain as it builds a client. In a SnapStart function Lambda hands out
credentials from a local container endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), so a client built
before the snapshot would fetch them over the network and carry them into a snapshot that every restored
copy shares. `DeferredCredentials` stands in the session for the chain: nothing is fetched until the first
signed request, `forget()` drops what was fetched (each restored copy then fetches its own), and
`standing_in()` lends fixed placeholder credentials for requests that never leave the process (the
before-snapshot warm-up signs its requests, and its answers are canned).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError

# Signs requests that never leave the process: not a key of any account.
PLACEHOLDER = Credentials("PLACEHOLDERKEYID", "placeholder-signing-only", "placeholder-token")


class DeferredCredentials(Credentials):
    """The credential chain's answer, fetched on first use and forgotten on demand."""

    method = "deferred"

    def __init__(self, resolve: Callable[[], Credentials | None]) -> None:
        # No super().__init__(): every attribute below reads the resolved credentials.
        self._resolve = resolve
        self._resolved: Credentials | None = None
        self._lock = threading.Lock()

    @property
    def resolved(self) -> bool:
        """True once credentials were fetched (or lent), until `forget()`."""
        return self._resolved is not None

    def _current(self) -> Credentials:
        with self._lock:
            if self._resolved is None:
                found = self._resolve()
                if found is None:
                    raise NoCredentialsError()
                self._resolved = found
            return self._resolved

    def forget(self) -> None:
        """Drop the fetched credentials: the next signed request fetches again."""
        with self._lock:
            self._resolved = None

    @contextmanager
    def standing_in(self, credentials: Credentials = PLACEHOLDER) -> Iterator[None]:
        """Sign with `credentials` inside the block (no fetch), and hold nothing after it."""
        with self._lock:
            self._resolved = credentials
        try:
            yield
        finally:
            self.forget()

    # What botocore reads from a Credentials object (the signer, the endpoint rules' account id).
    @property
    def access_key(self) -> str:
        return str(self._current().access_key)

    @property
    def secret_key(self) -> str:
        return str(self._current().secret_key)

    @property
    def token(self) -> str | None:
        return self._current().token

    @property
    def account_id(self) -> str | None:
        return getattr(self._current(), "account_id", None)

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return self._current().get_frozen_credentials()


class DeferredChain:
    """A botocore session's `credential_provider` component whose `load_credentials()` fetches nothing."""

    def __init__(self, chain: Any) -> None:
        self._chain = chain

    def load_credentials(self) -> DeferredCredentials:
        return DeferredCredentials(self._chain.load_credentials)
