"""A reproducible backtest read and the audit of a vendor re-upload (as-of reads, docs/decisions.md D38).

    dotnet run --project src/Lakehouse.Flight.Cli -- serve --demo      # in another terminal
    python3 clients/python/example_as_of.py [grpc://localhost:8815] [2026-11-30T22:00:00Z]
"""
import json
import sys
from datetime import datetime, timezone

import pyarrow.flight as fl

uri = sys.argv[1] if len(sys.argv) > 1 else "grpc://localhost:8815"
as_of = sys.argv[2] if len(sys.argv) > 2 else datetime.now(timezone.utc).isoformat()
c = fl.connect(uri)

# The backtest pins the instant it claims to trade at: the same ticket returns the same rows next year.
ticket = {"symbols": ["AAPL", "MSFT"], "date_from": "2024-01-01", "date_to": "2024-03-31",
          "columns": ["symbol", "date", "close", "adj_close"], "as_of": as_of}
df = c.do_get(fl.Ticket(json.dumps(ticket))).read_pandas()
print(f"as of {as_of}:")
print(df.groupby("symbol")["adj_close"].describe())

# The same moment in SQL (Flight SQL): the statement's `-- lakehouse: as_of=...` hint pins every table it reads.
sys.path.insert(0, __file__.rsplit("/", 1)[0] if "/" in __file__ else ".")
from lakehouse_client import LakehouseClient  # noqa: E402

with LakehouseClient(uri) as lh:
    monthly = lh.sql("SELECT symbol, date_trunc('month', date)::DATE AS month, avg(adj_close) AS mean_adj_close "
                     "FROM silver.prices_daily WHERE symbol IN ('AAPL', 'MSFT') "
                     "AND date BETWEEN DATE '2024-01-01' AND DATE '2024-03-31' GROUP BY ALL ORDER BY ALL", as_of=as_of)
print(monthly.to_pandas())

# What the last two versions that touched AAPL changed: the way to audit a vendor re-upload.
versions = json.loads(list(c.do_action(fl.Action("list-versions", json.dumps({"symbol": "AAPL", "limit": 2}).encode())))[-1].body.to_pybytes())
if len(versions) == 2:
    newer, older = versions[0]["version"], versions[1]["version"]
    diff = c.do_get(fl.Ticket(json.dumps({"symbols": ["AAPL"], "version": newer, "diff_from_version": older}))).read_pandas()
    print(f"AAPL from version {older} to {newer}: {len(diff)} row(s)")
    print(diff[["change", "date", "old_close", "new_close", "old_adj_close", "new_adj_close"]].head(20))
