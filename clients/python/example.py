"""Pull a quarter of daily closes for two symbols into pandas.

    dotnet run --project src/Lakehouse.Flight.Cli -- serve --demo      # in another terminal
    python3 clients/python/example.py
"""
import json
import sys

import pyarrow.flight as fl

uri = sys.argv[1] if len(sys.argv) > 1 else "grpc://localhost:8815"
c = fl.connect(uri)
t = fl.Ticket(json.dumps({"symbols": ["AAPL", "MSFT"], "date_from": "2024-01-01",
                          "date_to": "2024-03-31", "columns": ["symbol", "date", "close"]}))
df = c.do_get(t).read_pandas()
print(df.groupby("symbol")["close"].describe())
