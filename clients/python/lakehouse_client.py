"""A small Python client for Lakehouse.Flight on pyarrow.flight.

    from lakehouse_client import LakehouseClient
    lh = LakehouseClient("grpc://localhost:8815")            # add user=/password= or token= when auth is on
    df = lh.get_prices(["AAPL", "MSFT"], "2024-01-01", "2024-03-31", columns=["date", "close"])
    # A reproducible backtest read: the rows as the lake held them at an instant (or version=, snapshot=).
    df = lh.get_prices(["AAPL"], "2024-01-01", "2024-03-31", as_of="2026-11-30T22:00:00Z")

Tickets are plain JSON (see DESIGN.md), so everything here is also one line of raw pyarrow.flight.
"""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Optional, Sequence

import pyarrow as pa
import pyarrow.flight as flight


class LakehouseClient:
    """Reads and writes daily bars over Arrow Flight."""

    def __init__(self, uri: str = "grpc://localhost:8815", user: Optional[str] = None,
                 password: Optional[str] = None, token: Optional[str] = None,
                 tls_root_certs: Optional[bytes] = None) -> None:
        kwargs = {"tls_root_certs": tls_root_certs} if tls_root_certs else {}
        self._client = flight.FlightClient(uri, **kwargs)
        headers = []
        if user is not None:
            # The server answers Basic credentials with a Bearer token in the Handshake's headers.
            headers.append(self._client.authenticate_basic_token(user, password or ""))
        elif token is not None:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        self._options = flight.FlightCallOptions(headers=headers)

    @staticmethod
    def query(symbols: Sequence[str] = (), date_from: Optional[str] = None, date_to: Optional[str] = None,
              columns: Sequence[str] = (), layer: str = "silver", table: str = "prices_daily",
              version: Optional[int] = None, as_of: Optional[str] = None, snapshot: Optional[str] = None,
              diff_from_version: Optional[int] = None) -> bytes:
        """The JSON ticket/command for a query.

        At most one of version (a lake version number), as_of (an ISO-8601 instant with Z or an offset: the last
        version committed at or before it) and snapshot (a name) reads the table as it was then; with
        diff_from_version the stream is what changed from that version to the one read (change, key, old_/new_)."""
        q = {"layer": layer, "table": table, "symbols": list(symbols), "columns": list(columns)}
        if date_from:
            q["date_from"] = date_from
        if date_to:
            q["date_to"] = date_to
        if version is not None:
            q["version"] = version
        if as_of:
            q["as_of"] = as_of
        if snapshot:
            q["snapshot"] = snapshot
        if diff_from_version is not None:
            q["diff_from_version"] = diff_from_version
        return json.dumps(q).encode()

    def get_table(self, symbols: Sequence[str] = (), date_from: Optional[str] = None, date_to: Optional[str] = None,
                  columns: Sequence[str] = (), layer: str = "silver", parallel: int = 1, version: Optional[int] = None,
                  as_of: Optional[str] = None, snapshot: Optional[str] = None) -> pa.Table:
        """Rows ordered by symbol, then date. parallel > 1 reads the per-symbol endpoints concurrently.
        version / as_of / snapshot read the table as it was then (at most one)."""
        command = self.query(symbols, date_from, date_to, columns, layer, version=version, as_of=as_of, snapshot=snapshot)
        if parallel <= 1:
            return self._client.do_get(flight.Ticket(command), self._options).read_all()
        info = self._client.get_flight_info(flight.FlightDescriptor.for_command(command), self._options)
        tickets = [e.ticket for e in info.endpoints]
        if not tickets:
            return info.schema.empty_table()
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            tables = list(pool.map(lambda t: self._client.do_get(t, self._options).read_all(), tickets))
        return pa.concat_tables(tables)

    def get_prices(self, symbols: Sequence[str] = (), date_from: Optional[str] = None, date_to: Optional[str] = None,
                   columns: Sequence[str] = (), layer: str = "silver", parallel: int = 1, version: Optional[int] = None,
                   as_of: Optional[str] = None, snapshot: Optional[str] = None):
        """The same as get_table, as a pandas DataFrame."""
        return self.get_table(symbols, date_from, date_to, columns, layer, parallel, version, as_of, snapshot).to_pandas()

    def diff(self, diff_from_version: int, symbols: Sequence[str] = (), version: Optional[int] = None,
             as_of: Optional[str] = None, snapshot: Optional[str] = None, layer: str = "silver",
             table: str = "prices_daily") -> pa.Table:
        """What changed in a table from one version to another (default: the latest): one row per key added,
        removed or changed, with change, the key columns, and old_<column> / new_<column> for every other column."""
        command = self.query(symbols, layer=layer, table=table, version=version, as_of=as_of, snapshot=snapshot,
                             diff_from_version=diff_from_version)
        return self._client.do_get(flight.Ticket(command), self._options).read_all()

    def list_versions(self, layer: str = "silver", table: str = "prices_daily", symbol: Optional[str] = None,
                      date_from: Optional[str] = None, date_to: Optional[str] = None, limit: int = 100) -> list:
        """The versions that changed a table, newest first (version, ts, operation, run_id, sources, inserted,
        updated, symbols, readable, ...); date_from/date_to are ISO-8601 instants bounding the commit time."""
        body = {"layer": layer, "table": table, "limit": limit}
        if symbol:
            body["symbol"] = symbol
        if date_from:
            body["from"] = date_from
        if date_to:
            body["to"] = date_to
        return self.action("list-versions", body)[-1]

    def create_snapshot(self, name: str, tables: Sequence[str] = (), version: Optional[int] = None) -> dict:
        """Names the latest (or a given) version of every table (or of tables like "silver/prices_daily");
        vacuum keeps its files until delete_snapshot."""
        body = {"name": name, "tables": list(tables)}
        if version is not None:
            body["version"] = version
        return self.action("create-snapshot", body)[-1]

    def list_snapshots(self) -> list:
        return self.action("list-snapshots")[-1]

    def delete_snapshot(self, name: str) -> dict:
        return self.action("delete-snapshot", {"name": name})[-1]

    def upload(self, data, source: str, promote: bool = True, wait: bool = True) -> list:
        """Lands a DataFrame or Arrow table in bronze (and silver when promote). Returns the StorageReports.

        wait=False: the server answers once the rows are durable in its write-ahead log, before they are
        applied; the result is then [{"run_id": ..., "state": "durable", "visible": True, ...}]: with
        "visible", queries of silver return the rows from this answer on. wait_for_upload(run_id) returns
        the StorageReports once they are written to the lake's files (bronze and silver)."""
        table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        command = json.dumps({"table": "prices_daily", "source": source, "promote": promote, "wait": wait}).encode()
        writer, reader = self._client.do_put(flight.FlightDescriptor.for_command(command), table.schema, self._options)
        writer.write_table(table)
        writer.done_writing()
        reports = []
        while True:
            try:
                buf = reader.read()
            except StopIteration:
                break
            if buf is None:
                break
            reports.extend(_reports(buf.to_pybytes()))
        writer.close()
        return reports

    def wait_for_upload(self, run_id: str) -> list:
        """Blocks until an upload sent with wait=False is applied; returns its StorageReports."""
        status = self.action("upload-status", {"run_id": run_id, "wait": True})[-1]
        if status["state"] == "failed":
            raise RuntimeError(f"upload {run_id} failed: {status['error']}")
        return status["reports"]

    def action(self, name: str, body: Optional[dict] = None) -> list:
        """Runs a DoAction; returns every result body parsed as JSON (progress first, report last)."""
        results = self._client.do_action(flight.Action(name, json.dumps(body or {}).encode()), self._options)
        return [json.loads(r.body.to_pybytes()) for r in results]

    def ingest(self, symbols: Iterable[str], date_from: str, date_to: str, source: str = "synthetic") -> list:
        return self.action("ingest", {"source": source, "symbols": list(symbols), "date_from": date_from, "date_to": date_to})

    def sql(self, query: str, as_of: Optional[str] = None, version: Optional[int] = None,
            snapshot: Optional[str] = None) -> pa.Table:
        """Runs one SQL statement over Flight SQL (tables <layer>.<table>, e.g. silver.prices_daily); the whole result.

        Plain pyarrow.flight, as the ADBC driver does it: a CommandStatementQuery packed in google.protobuf.Any
        (hand-encoded: two string fields) as the descriptor of GetFlightInfo, then DoGet of each endpoint's ticket.
        as_of (an ISO-8601 instant), version or snapshot reads every table at that moment: sent as the statement's
        leading `-- lakehouse: ...` comment, which is what any other Flight SQL client would send.
        """
        moments = [f"{k}={v}" for k, v in (("as_of", as_of), ("version", version), ("snapshot", snapshot)) if v is not None]
        if len(moments) > 1:
            raise ValueError("give at most one of as_of, version, snapshot")
        if moments:
            query = f"-- lakehouse: {moments[0]}\n{query}"
        command = _any("CommandStatementQuery", _field(1, query.encode()))
        info = self._client.get_flight_info(flight.FlightDescriptor.for_command(command), self._options)
        tables = [self._client.do_get(e.ticket, self._options).read_all() for e in info.endpoints]
        return pa.concat_tables(tables) if tables else info.schema.empty_table()

    def list_datasets(self) -> list:
        return [tuple(f.descriptor.path) for f in self._client.list_flights(b"", self._options)]

    def close(self) -> None:
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_http(base_url: str = "http://localhost:8080", symbols: Sequence[str] = (), date_from: Optional[str] = None,
              date_to: Optional[str] = None, columns: Sequence[str] = (), layer: str = "silver",
              table: str = "prices_daily", compression: Optional[str] = None, token: Optional[str] = None,
              timeout: float = 300.0, version: Optional[int] = None, as_of: Optional[str] = None,
              snapshot: Optional[str] = None) -> pa.Table:
    """Every row of a query from the HTTP API's Arrow IPC stream (GET /prices/arrow): no Flight, no row limit.

    The same rows, order and schema as a DoGet of the same query; compression is "lz4" or "zstd" (or None).
    ``read_http(...).to_pandas()`` for a DataFrame. A refused query raises urllib.error.HTTPError whose body is
    problem+json naming the bad parameter.
    """
    params = {"layer": layer, "table": table}
    if symbols:
        params["symbols"] = ",".join(symbols)
    if date_from:
        params["date_from"] = date_from
    if date_to:
        params["date_to"] = date_to
    if columns:
        params["columns"] = ",".join(columns)
    if compression:
        params["compression"] = compression
    if version is not None:
        params["version"] = str(version)
    if as_of:
        params["as_of"] = as_of
    if snapshot:
        params["snapshot"] = snapshot
    request = urllib.request.Request(f"{base_url.rstrip('/')}/prices/arrow?{urllib.parse.urlencode(params)}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return pa.ipc.open_stream(response).read_all()


def read_sql_http(base_url: str, query: str, parameters: Sequence = (), token: Optional[str] = None,
                  timeout: float = 300.0) -> pa.Table:
    """One SQL statement over HTTP (POST /sql) as an Arrow table: no Flight needed. Parameters bind ? or $1, in order.

    A refused statement raises urllib.error.HTTPError whose body is problem+json with the engine's message.
    """
    body = json.dumps({"query": query, "parameters": list(parameters)}).encode()
    request = urllib.request.Request(f"{base_url.rstrip('/')}/sql", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/vnd.apache.arrow.stream"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return pa.ipc.open_stream(response).read_all()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: bytes) -> bytes:
    """A length-delimited protobuf field (strings, bytes, messages)."""
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _any(message: str, value: bytes) -> bytes:
    """google.protobuf.Any of a Flight SQL message: type_url = 1, value = 2."""
    return _field(1, f"type.googleapis.com/arrow.flight.protocol.sql.{message}".encode()) + _field(2, value)


def _reports(payload: bytes) -> list:
    doc = json.loads(payload)
    return doc if isinstance(doc, list) else [doc]
