"""SQL from Python against a real `lakehouse serve`: Flight SQL through plain pyarrow.flight (statements and bulk
ingest, as ADBC sends them) and HTTP POST /sql (skipped where pyarrow is missing)."""
import csv
import io
import json
import shutil
import unittest
import urllib.error
import urllib.request

from test_client import MISSING, _start_server

MONTHLY = ("SELECT symbol, date_trunc('month', date)::DATE AS month, count(*) AS days, sum(volume) AS volume "
           "FROM silver.prices_daily GROUP BY ALL ORDER BY ALL")


@unittest.skipIf(MISSING is not None, MISSING or "")
class SqlTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.data, cls.uri, cls.http = _start_server("lakehouse-py-sql-")
        from lakehouse_client import LakehouseClient
        with LakehouseClient(cls.uri) as lh:
            lh.ingest(["AAPL", "MSFT"], "2024-01-01", "2024-03-31")

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        shutil.rmtree(cls.data, ignore_errors=True)

    def _post(self, query, accept):
        request = urllib.request.Request(f"{self.http}/sql", data=json.dumps({"query": query}).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "Accept": accept})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()

    def test_flight_sql_and_http_sql_equal_pandas_over_do_get(self):
        from lakehouse_client import LakehouseClient, read_sql_http
        with LakehouseClient(self.uri) as lh:
            flight_sql = lh.sql(MONTHLY)
            df = lh.get_prices(["AAPL", "MSFT"])
        over_http = read_sql_http(self.http, MONTHLY)
        df["month"] = df["date"].map(lambda d: d.replace(day=1))
        expected = df.groupby(["symbol", "month"]).agg(days=("close", "size"), volume=("volume", "sum")).reset_index()
        self.assertEqual(6, flight_sql.num_rows)
        self.assertEqual(list(expected["days"]), flight_sql.column("days").to_pylist())
        self.assertEqual(list(expected["volume"]), flight_sql.column("volume").to_pylist())
        self.assertEqual([str(m) for m in expected["month"]], [str(m) for m in flight_sql.column("month").to_pylist()])
        self.assertTrue(flight_sql.equals(over_http))
        rows = json.loads(self._post(MONTHLY, "application/json"))
        self.assertEqual(flight_sql.column("volume").to_pylist(), [r["volume"] for r in rows])
        lines = list(csv.reader(io.StringIO(self._post(MONTHLY, "text/csv").decode())))
        self.assertEqual(["symbol", "month", "days", "volume"], lines[0])
        self.assertEqual([str(v) for v in flight_sql.column("days").to_pylist()], [r[2] for r in lines[1:]])

    def test_bulk_ingest_through_pyarrow_do_put_then_sql_reads_it(self):
        import pandas as pd
        import pyarrow as pa
        import pyarrow.flight as fl
        from lakehouse_client import LakehouseClient, _any, _field, _varint
        days = pd.bdate_range("2024-01-02", periods=10)
        frame = pd.DataFrame({"symbol": "PYSQL", "date": days, "open": 10.0, "high": 11.0, "low": 9.0,
                              "close": [10.0 + i for i in range(10)], "volume": 1000})
        frame["adj_close"] = frame["close"]
        frame["high"] = frame["close"] + 1
        table = pa.Table.from_pandas(frame, preserve_index=False)
        # CommandStatementIngest { table_definition_options = 1 { if_not_exist = FAIL (2), if_exists = APPEND (2) },
        # table = 2, options = 1000 (map entries: key = 1, value = 2) }, as ADBC's adbc.ingest.mode.append sends it.
        options = _varint(1 << 3) + _varint(2) + _varint(2 << 3) + _varint(2)
        command = _any("CommandStatementIngest", _field(1, options) + _field(2, b"bronze.prices_daily")
                       + _field(1000, _field(1, b"source") + _field(2, b"py_adbc")))
        writer, reader = fl.connect(self.uri).do_put(fl.FlightDescriptor.for_command(command), table.schema)
        writer.write_table(table)
        writer.done_writing()
        result = reader.read()
        writer.close()
        # DoPutUpdateResult { record_count = 1 (varint) }
        self.assertEqual(_varint(1 << 3) + _varint(10), result.to_pybytes())
        with LakehouseClient(self.uri) as lh:
            read = lh.sql("SELECT count(*) AS n, sum(close) AS total FROM bronze.prices_daily WHERE source = 'py_adbc'")
        self.assertEqual([10], read.column("n").to_pylist())
        self.assertEqual([sum(10.0 + i for i in range(10))], read.column("total").to_pylist())

    def test_sql_as_of_a_version_reads_the_rows_before_a_later_ingest(self):
        from lakehouse_client import LakehouseClient
        query = "SELECT symbol, count(*) AS days FROM silver.prices_daily GROUP BY symbol ORDER BY symbol"
        request = urllib.request.Request(f"{self.http}/sql", data=json.dumps({"query": query}).encode(), method="POST",
                                         headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            version = int(response.headers["X-Lakehouse-Version"])
            before = json.loads(response.read())
        with LakehouseClient(self.uri) as lh:
            lh.ingest(["ASOF"], "2024-01-01", "2024-01-31")
            now = lh.sql(query)
            then = lh.sql(query, version=version)
            with self.assertRaises(ValueError):
                lh.sql(query, version=version, snapshot="x")
        self.assertIn("ASOF", now.column("symbol").to_pylist())
        self.assertEqual([r["symbol"] for r in before], then.column("symbol").to_pylist())
        self.assertEqual([r["days"] for r in before], then.column("days").to_pylist())
        self.assertNotIn("ASOF", then.column("symbol").to_pylist())

    def test_sql_right_after_an_upload_acknowledged_before_it_is_applied_counts_its_rows(self):
        import pandas as pd
        from lakehouse_client import LakehouseClient
        days = pd.bdate_range("2024-01-02", periods=60)
        frame = pd.concat([pd.DataFrame({"symbol": f"RYW{i:02d}", "date": days, "open": 10.0, "high": 12.0, "low": 9.0,
                                         "close": 11.0, "adj_close": None, "volume": 1000}) for i in range(30)])
        with LakehouseClient(self.uri) as lh:
            ack = lh.upload(frame, source="py_ryw", wait=False)
            self.assertEqual("durable", ack[0]["state"])
            read = lh.sql("SELECT count(*) AS n, count(adj_close) AS adj FROM silver.prices_daily WHERE symbol LIKE 'RYW%'")
        # Every acknowledged row, at once; adj_close (all None: Arrow's null type from pandas) landed as nulls.
        self.assertEqual([len(frame)], read.column("n").to_pylist())
        self.assertEqual([0], read.column("adj").to_pylist())

    def test_bad_sql_is_invalid_argument_over_flight_and_400_over_http(self):
        import pyarrow as pa
        from lakehouse_client import LakehouseClient
        with LakehouseClient(self.uri) as lh:
            with self.assertRaises(pa.lib.ArrowInvalid) as ctx:
                lh.sql("SELECT nope FROM silver.prices_daily")
        self.assertIn("nope", str(ctx.exception))
        with self.assertRaises(urllib.error.HTTPError) as http:
            self._post("SELECT nope FROM silver.prices_daily", "application/json")
        self.assertEqual(400, http.exception.code)
        detail = json.loads(http.exception.read())["detail"]
        self.assertIn("nope", detail)
        self.assertNotIn(self.data, detail)


if __name__ == "__main__":
    unittest.main()
