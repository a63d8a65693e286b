"""Pull from an Ed-Fi ODS/API: OAuth2 client credentials, paging, change versions, deletes.

Standard library only (`urllib.request`). The first sync reads every resource; later syncs ask
`/changeQueries/v1/availableChangeVersions` for the newest change version and read only what
changed since the last successful sync of the same API (remembered on that sync's Job), plus the
`/deletes` of attendance events, which become deletions in the ledger (history kept).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from attend.jobs.choices import JobStatus
from attend.jobs.models import Job
from attend.roster.importers.batch import Batch
from attend.roster.importers.edfi_records import DELETE_HANDLERS, HANDLERS, stage

PAGE = 500
TIMEOUT = 60
# Resources whose deletions matter to Attend: the ledger keeps them as deleted rows.
DELETES = DELETE_HANDLERS
Progress = Callable[[str], None]


class ApiError(Exception):
    """The API refused or failed a request; the message names it."""


class ApiSync:
    def __init__(
        self, *, base_url: str, key: str, secret: str, school_year: int | None, full: bool
    ) -> None:
        self.base = base_url.rstrip("/")
        self.key, self.secret = key, secret
        self.school_year, self.full = school_year, full
        self.token = ""
        self.since: int | None = None if full else last_change_version(self.base)
        self.newest: int | None = None

    def params(self) -> dict[str, Any]:
        return {"base_url": self.base, "school_year": self.school_year, "since": self.since}

    # -- the reader -----------------------------------------------------------------------

    def read(self, batch: Batch, say: Progress) -> None:
        """Stage every resource (changed ones only after the first sync), then deletes."""
        try:
            self.token = self._authenticate()
            self.newest = self._newest_change_version()
            for resource in HANDLERS:
                self._read_resource(resource, batch, say)
            if self.since is not None:
                for resource, handler in DELETES.items():
                    self._read_deletes(resource, handler, batch)
        except ApiError as bad:
            batch.problems.add(self.base, "", "", "", str(bad))

    def _read_resource(self, resource: str, batch: Batch, say: Progress) -> None:
        file_no = batch.file_number(f"{resource} (API)")
        count = 0
        for number, record in enumerate(self._pages(resource), start=1):
            count += stage(batch, HANDLERS[resource], record, batch.at(file_no, number))
        say(f"read {resource}: {count:,} records")

    def _read_deletes(self, resource: str, handler: Any, batch: Batch) -> None:
        file_no = batch.file_number(f"{resource}/deletes (API)")
        for number, record in enumerate(self._pages(f"{resource}/deletes"), start=1):
            stage(batch, handler, record, batch.at(file_no, number))

    def finished(self, result: Any) -> None:
        """Remember how far this sync read, on its Job, for the next incremental sync."""
        if self.newest is not None and result.written:
            job = result.job
            job.counts = {**job.counts, "change_version": self.newest}
            job.save(update_fields=["counts"])

    # -- HTTP -------------------------------------------------------------------------------

    def _authenticate(self) -> str:
        credentials = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        body = urllib.parse.urlencode({"grant_type": "client_credentials"}).encode()
        request = urllib.request.Request(  # noqa: S310 (the operator's own API URL)
            f"{self.base}/oauth/token",
            data=body,
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        token = self._send(request).get("access_token")
        if not token:
            raise ApiError("the token endpoint returned no access_token")
        return str(token)

    def _newest_change_version(self) -> int | None:
        try:
            versions = self._get(f"{self.base}/changeQueries/v1/availableChangeVersions")
        except ApiError:
            if self.since is not None:
                raise
            return None  # an API without change queries still allows full syncs
        return int(versions.get("newestChangeVersion", 0))

    def _pages(self, resource: str) -> Iterator[Any]:
        """Every record of a resource, page by page, within the change-version window."""
        offset = 0
        while True:
            query = {"offset": offset, "limit": PAGE, "totalCount": "true"}
            if self.since is not None and self.newest is not None:
                query |= {"minChangeVersion": self.since + 1, "maxChangeVersion": self.newest}
            page = self._get(f"{self._data_url()}/{resource}?{urllib.parse.urlencode(query)}")
            if page is None:
                return
            if not isinstance(page, list):
                raise ApiError(f"{resource}: expected a JSON array, got {type(page).__name__}")
            yield from page
            if len(page) < PAGE:
                return
            offset += PAGE

    def _data_url(self) -> str:
        year = f"/{self.school_year}" if self.school_year else ""
        return f"{self.base}/data/v3{year}/ed-fi"

    def _get(self, url: str) -> Any:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}"})  # noqa: S310
        try:
            return self._send(request)
        except _Expired:
            self.token = self._authenticate()
            request.add_header("Authorization", f"Bearer {self.token}")
            return self._send(request)
        except _Missing:
            return None

    def _send(self, request: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return json.loads(response.read().decode("utf-8-sig") or "null")
        except urllib.error.HTTPError as bad:
            raise _classified(bad, request.full_url) from None
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as bad:
            raise ApiError(f"{request.get_method()} {request.full_url}: {bad}") from None


class _Expired(ApiError):
    """401 on a data request: the token expired; authenticate again once."""


class _Missing(ApiError):
    """404: this API does not offer the resource (an older data standard); skipped."""


def _classified(bad: urllib.error.HTTPError, url: str) -> ApiError:
    message = f"GET {url}: HTTP {bad.code} {bad.reason}"
    if bad.code == 401 and "/oauth/" not in url:
        return _Expired(message)
    if bad.code == 404 and "/data/" in url:
        return _Missing(message)
    return ApiError(message)


def last_change_version(base: str) -> int | None:
    """The change version the last successful sync of this API reached, if any."""
    jobs = Job.objects.filter(
        kind="import.edfi_api", status=JobStatus.SUCCEEDED, params__base_url=base
    ).order_by("-finished_at")
    for job in jobs[:20]:
        version = (job.counts or {}).get("change_version")
        if version is not None:
            return int(version)
    return None
