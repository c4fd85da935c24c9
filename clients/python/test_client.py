"""Tests of the Python client against a real `lakehouse serve` (skipped where pyarrow is missing)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

try:
    import pyarrow  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.flight  # noqa: F401
    MISSING = None
except ImportError as e:  # pragma: no cover - depends on the machine
    MISSING = f"pyarrow/pandas not installed ({e}); the Python client tests need them"


def _server_dll():
    for config in ("Release", "Debug"):
        p = os.path.join(ROOT, "src", "Lakehouse.Flight.Cli", "bin", config, "net10.0", "lakehouse.dll")
        if os.path.exists(p):
            return p
    return None


def _start_server(prefix: str):
    """`lakehouse serve` on a fresh temp lake, ports chosen by the OS: (process, data dir, grpc URI, HTTP URL)."""
    dll = _server_dll()
    if dll is None:
        raise unittest.SkipTest("build the solution first: lakehouse.dll not found")
    data = tempfile.mkdtemp(prefix=prefix)
    proc = subprocess.Popen(["dotnet", dll, "serve", "--data-dir", data, "--flight-port", "0", "--http-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    m = re.search(r"Flight listening on (grpc://\S+)", line)
    http_line = proc.stdout.readline()
    h = re.search(r"HTTP listening on (http://\S+)", http_line)
    if not m or not h:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r} {http_line!r}")
    return proc, data, m.group(1), h.group(1)


@unittest.skipIf(MISSING is not None, MISSING or "")
class ClientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.data, cls.uri, cls.http = _start_server("lakehouse-py-")

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        shutil.rmtree(cls.data, ignore_errors=True)

    def test_ingest_then_get_prices_returns_the_rows_in_order(self):
        from lakehouse_client import LakehouseClient
        with LakehouseClient(self.uri) as lh:
            reports = lh.ingest(["MSFT", "AAPL"], "2024-01-01", "2024-01-31")
            self.assertEqual(23, reports[-1]["rows"] if isinstance(reports[-1], dict) else reports[-1][0]["rows"])
            df = lh.get_prices(["AAPL", "MSFT"], "2024-01-08", "2024-01-12", columns=["symbol", "date", "close"])
        self.assertEqual(["symbol", "date", "close"], list(df.columns))
        self.assertEqual(["AAPL"] * 5 + ["MSFT"] * 5, list(df["symbol"]))
        self.assertEqual("2024-01-08", str(df["date"].iloc[0]))
        self.assertTrue((df["close"] > 0).all())

    def test_upload_pandas_frame_with_ns_timestamps_lands_and_reads_back(self):
        import pandas as pd
        from lakehouse_client import LakehouseClient
        frame = pd.DataFrame({
            "symbol": ["PYT", "PYT"],
            "date": pd.to_datetime(["2024-02-01", "2024-02-02"]),
            "open": [10.0, 11.0], "high": [12.0, 12.5], "low": [9.5, 10.5], "close": [11.0, 12.0],
            "adj_close": [11.0, 12.0], "volume": [1000, 2000],
        })
        with LakehouseClient(self.uri) as lh:
            reports = lh.upload(frame, source="pytest", promote=True)
            back = lh.get_prices(["PYT"])
        self.assertIn(("silver", 2), [(r["layer"], r["inserted"]) for r in reports])
        self.assertEqual([11.0, 12.0], list(back["close"]))
        self.assertEqual(["pytest", "pytest"], list(back["source"]))

    def test_upload_without_wait_is_acknowledged_durable_then_applied(self):
        import pandas as pd
        from lakehouse_client import LakehouseClient
        frame = pd.DataFrame({
            "symbol": ["PYW"] * 3,
            "date": pd.to_datetime(["2024-03-01", "2024-03-04", "2024-03-05"]),
            "open": [10.0, 11.0, 12.0], "high": [12.0, 12.5, 13.0], "low": [9.5, 10.5, 11.5], "close": [11.0, 12.0, 12.5],
            "adj_close": [11.0, 12.0, 12.5], "volume": [1000, 2000, 3000],
        })
        with LakehouseClient(self.uri) as lh:
            ack = lh.upload(frame, source="pytest", promote=True, wait=False)[0]
            self.assertEqual("durable", ack["state"])
            self.assertEqual(3, ack["rows"])
            self.assertTrue(ack["visible"])
            # Readable in silver from the answer on, applied or not.
            self.assertEqual([11.0, 12.0, 12.5], list(lh.get_prices(["PYW"])["close"]))
            reports = lh.wait_for_upload(ack["run_id"])
            back = lh.get_prices(["PYW"])
        self.assertEqual({ack["run_id"]}, {r["run_id"] for r in reports})
        self.assertIn(("silver", 3), [(r["layer"], r["inserted"]) for r in reports])
        self.assertEqual([11.0, 12.0, 12.5], list(back["close"]))

    def test_upload_categorical_columns_and_compressed_streams_land_as_plain_ones(self):
        # A categorical column arrives as dictionary<values=string, indices=int8>; the server decodes it
        # (decisions D22), as it decompresses LZ4_FRAME / ZSTD IPC bodies.
        import pandas as pd
        import pyarrow as pa
        import pyarrow.flight as fl
        from lakehouse_client import LakehouseClient
        frame = pd.DataFrame({
            "symbol": ["CAT", "CAT", "DOG"],
            "date": pd.to_datetime(["2024-02-01", "2024-02-02", "2024-02-01"]),
            "open": [10.0, 11.0, 5.0], "high": [12.0, 12.5, 6.0], "low": [9.5, 10.5, 4.5], "close": [11.0, 12.0, 5.5],
            "adj_close": [11.0, 12.0, 5.5], "volume": [1000, 2000, 300],
        })
        frame["symbol"] = frame["symbol"].astype("category")
        self.assertTrue(pa.types.is_dictionary(pa.Table.from_pandas(frame, preserve_index=False).schema.field("symbol").type))
        with LakehouseClient(self.uri) as lh:
            reports = lh.upload(frame, source="pytest", promote=True)
            back = lh.get_prices(["CAT", "DOG"])
        self.assertEqual(3, sum(r["inserted"] for r in reports if r["layer"] == "silver"))
        self.assertEqual(["CAT", "CAT", "DOG"], list(back["symbol"]))
        self.assertEqual([11.0, 12.0, 5.5], list(back["close"]))

        later = frame.assign(date=pd.to_datetime(["2024-03-01", "2024-03-04", "2024-03-01"]))
        table = pa.Table.from_pandas(later, preserve_index=False)
        # "wait": True answers with the reports once the files are written (no flag: once durable and readable).
        command = json.dumps({"table": "prices_daily", "source": "pytest", "promote": True, "wait": True}).encode()
        for codec in ("lz4", "zstd"):
            options = fl.FlightCallOptions(write_options=pa.ipc.IpcWriteOptions(compression=codec))
            writer, reader = fl.connect(self.uri).do_put(fl.FlightDescriptor.for_command(command), table.schema, options)
            writer.write_table(table)
            writer.done_writing()
            result = json.loads(reader.read().to_pybytes())
            writer.close()
            silver = [r for r in result if r["layer"] == "silver"]
            # The first codec inserts the March rows, the second finds them unchanged.
            self.assertEqual(3, sum(r["inserted"] + r["unchanged"] for r in silver))

    def test_parallel_endpoints_equal_single_stream(self):
        from lakehouse_client import LakehouseClient
        with LakehouseClient(self.uri) as lh:
            lh.ingest(["P1", "P2", "P3"], "2024-01-01", "2024-06-30")
            one = lh.get_table(["P1", "P2", "P3"])
            many = lh.get_table(["P1", "P2", "P3"], parallel=3)
        self.assertEqual(one.num_rows, many.num_rows)
        self.assertTrue(one.equals(many))

    def test_http_arrow_stream_equals_do_get_and_reads_compressed(self):
        import pyarrow.flight as fl
        from lakehouse_client import LakehouseClient, read_http
        with LakehouseClient(self.uri) as lh:
            lh.ingest(["H1", "H2"], "2023-01-01", "2023-12-31")
        ticket = json.dumps({"symbols": ["H2", "H1"], "date_from": "2023-02-01", "columns": ["symbol", "date", "close"]})
        flight_table = fl.connect(self.uri).do_get(fl.Ticket(ticket)).read_all()
        plain = read_http(self.http, ["H2", "H1"], date_from="2023-02-01", columns=["symbol", "date", "close"])
        zstd = read_http(self.http, ["H2", "H1"], date_from="2023-02-01", columns=["symbol", "date", "close"], compression="zstd")
        zstd_flight = fl.connect(self.uri).do_get(fl.Ticket(json.dumps({**json.loads(ticket), "compression": "zstd"}))).read_all()
        self.assertGreater(flight_table.num_rows, 300)
        self.assertTrue(flight_table.equals(plain))
        self.assertTrue(flight_table.equals(zstd))
        self.assertTrue(flight_table.equals(zstd_flight))

    def test_http_arrow_stream_bad_parameter_is_problem_json(self):
        import urllib.error
        from lakehouse_client import read_http
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            read_http(self.http, ["AAPL"], columns=["colour"])
        self.assertEqual(400, ctx.exception.code)
        self.assertIn("colour", json.loads(ctx.exception.read())["detail"])

    def test_as_of_pins_a_backtest_and_diff_audits_a_vendor_reupload(self):
        import time
        import pandas as pd
        import pyarrow as pa
        from datetime import datetime, timezone
        from lakehouse_client import LakehouseClient, read_http
        week = pd.to_datetime(["2024-02-05", "2024-02-06", "2024-02-07", "2024-02-08", "2024-02-09"])
        frame = pd.DataFrame({
            "symbol": ["ASOF"] * 5, "date": week,
            "open": [10.0] * 5, "high": [12.0] * 5, "low": [9.0] * 5, "close": [11.0, 11.5, 11.2, 11.8, 11.6],
            "adj_close": [11.0, 11.5, 11.2, 11.8, 11.6], "volume": [1000] * 5,
        })
        with LakehouseClient(self.uri) as lh:
            lh.upload(frame, source="vendor_x", promote=True)
            first = lh.list_versions(symbol="ASOF")[0]["version"]
            time.sleep(0.05)
            pinned = datetime.now(timezone.utc).isoformat()
            time.sleep(0.05)
            # The vendor re-uploads the week with two closes revised.
            lh.upload(frame.assign(close=[11.0, 11.4, 11.2, 11.9, 11.6]), source="vendor_x", promote=True)
            versions = lh.list_versions(symbol="ASOF")
            latest = versions[0]["version"]
            backtest = lh.get_prices(["ASOF"], columns=["date", "close"], as_of=pinned)
            now = lh.get_prices(["ASOF"], columns=["date", "close"])
            by_version = lh.get_prices(["ASOF"], columns=["date", "close"], version=first)
            over_http = read_http(self.http, ["ASOF"], columns=["date", "close"], as_of=pinned)
            diff = lh.diff(first, ["ASOF"], version=latest).to_pandas()
            snap = lh.create_snapshot("py-backtest", ["silver/prices_daily"], version=first)
            by_snapshot = lh.get_prices(["ASOF"], columns=["date", "close"], snapshot="py-backtest")
            self.assertIn("py-backtest", [s["name"] for s in lh.list_snapshots()])
            lh.delete_snapshot("py-backtest")
            with self.assertRaises(pa.lib.ArrowInvalid) as ctx:
                lh.get_prices(["ASOF"], as_of="2999-01-01T00:00:00Z")
        self.assertEqual([latest, first], [v["version"] for v in versions])
        self.assertEqual(2, versions[0]["updated"])
        self.assertEqual([11.0, 11.5, 11.2, 11.8, 11.6], list(backtest["close"]))
        self.assertEqual([11.0, 11.5, 11.2, 11.8, 11.6], list(by_version["close"]))
        self.assertEqual([11.0, 11.5, 11.2, 11.8, 11.6], list(by_snapshot["close"]))
        self.assertEqual([11.0, 11.5, 11.2, 11.8, 11.6], over_http.column("close").to_pylist())
        self.assertEqual([11.0, 11.4, 11.2, 11.9, 11.6], list(now["close"]))
        self.assertEqual(first, snap["tables"]["silver/prices_daily"])
        self.assertEqual(["changed", "changed"], list(diff["change"]))
        self.assertEqual([11.5, 11.8], list(diff["old_close"]))
        self.assertEqual([11.4, 11.9], list(diff["new_close"]))
        self.assertIn("as_of", str(ctx.exception))

    def test_bad_query_is_invalid_argument_naming_the_problem(self):
        # pyarrow maps gRPC statuses to its own exceptions: INVALID_ARGUMENT -> pyarrow.lib.ArrowInvalid
        # (not FlightServerError), UNAUTHENTICATED -> FlightUnauthenticatedError, PERMISSION_DENIED ->
        # FlightUnauthorizedError, NOT_FOUND -> ArrowKeyError, UNIMPLEMENTED -> ArrowNotImplementedError.
        import pyarrow as pa
        import pyarrow.flight as fl
        c = fl.connect(self.uri)
        with self.assertRaises(pa.lib.ArrowInvalid) as ctx:
            c.do_get(fl.Ticket(json.dumps({"layer": "platinum"}))).read_all()
        self.assertIn("unknown layer 'platinum'", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
