# The pyarrow side of the `lake` harness (tests/Lakehouse.Flight.Benchmarks/E2e/LakeHarness.cs): written to a temp
# file and run with the pyarrow the harness found. One mode per call; the last line printed is one JSON object.
#   gen       --symbols N --prefix P --from D --to D --out DIR [--max-rows 5000000]   pandas DataFrames -> Arrow IPC files
#   put       --address grpc://H:P --dir DIR [--batch-rows 100000]        DoPut {"promote": true} (no "wait") of every file, then upload-status
#   dataset   --dir TABLE_DIR [--stream] [--budget S] [--max-runs N]      ds.dataset(dir, format='parquet').to_table()
#   reference --dir TABLE_DIR --out FILE [--chunk-rows N]                  the rows as ONE zstd file sorted by (symbol, date)
#   scan      --address grpc://H:P --ticket JSON [--stream] [--budget S]   do_get(ticket).read_all()
import argparse
import glob
import json
import os
import sys
import time


def emit(obj):
    print(json.dumps(obj), flush=True)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cmd_gen(a):
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    days = pd.bdate_range(a.date_from, a.date_to)  # Monday..Friday, as the synthetic source
    ndays = len(days)
    symbols = [f"{a.prefix}{i:04d}" for i in range(1, a.symbols + 1)]
    per_put = max(1, a.max_rows // max(ndays, 1))
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(42)
    rows = 0
    files = 0
    nbytes = 0
    start = time.perf_counter()
    for k, first in enumerate(range(0, len(symbols), per_put)):
        chunk = symbols[first:first + per_put]
        shape = (len(chunk), ndays)
        # A seeded random walk with valid OHLC in cents, as SyntheticBars writes.
        level0 = np.log(20 + rng.random(len(chunk)) * 480)
        level = level0[:, None] + np.cumsum((rng.random(shape) - 0.5) * 0.04 + 0.0002, axis=1)
        close = np.maximum(0.01, np.round(np.exp(level), 2))
        prev = np.exp(np.concatenate([level0[:, None], level[:, :-1]], axis=1))
        open_ = np.maximum(0.01, np.round(prev * (1 + (rng.random(shape) - 0.5) * 0.01), 2))
        top = np.maximum(open_, close)
        bottom = np.minimum(open_, close)
        high = np.maximum(np.round(top * (1 + rng.random(shape) * 0.015), 2), top)
        low = np.maximum(0.01, np.minimum(np.round(bottom * (1 - rng.random(shape) * 0.015), 2), bottom))
        volume = (100_000 + rng.random(shape) * 5_000_000).astype(np.int64)
        frame = pd.DataFrame({
            "symbol": np.repeat(np.array(chunk, dtype=object), ndays),
            "date": np.tile(days.values, len(chunk)),  # datetime64[ns]: timestamp[ns] in Arrow
            "open": open_.ravel(), "high": high.ravel(), "low": low.ravel(), "close": close.ravel(),
            "adj_close": close.ravel(), "volume": volume.ravel(),
        })
        table = pa.Table.from_pandas(frame)  # what a user's DataFrame becomes (the RangeIndex goes to metadata only)
        path = os.path.join(a.out, f"upload-{k:04d}.arrow")
        with pa.OSFile(path + ".tmp", "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
        os.replace(path + ".tmp", path)
        rows += table.num_rows
        nbytes += table.nbytes
        files += 1
        log(f"  gen: {path}: {table.num_rows:,} rows ({rows:,} so far, {time.perf_counter() - start:.0f} s)")
    emit({"rows": rows, "files": files, "arrow_bytes": nbytes, "seconds": time.perf_counter() - start,
          "schema": str(pa.ipc.open_file(pa.memory_map(os.path.join(a.out, "upload-0000.arrow"))).schema).replace("\n", "; ")[:400]})


def cmd_put(a):
    import pyarrow as pa
    import pyarrow.flight as fl

    client = fl.connect(a.address)
    # No "wait" flag (the server's default answer); "promote" as README's upload example, so the rows reach silver
    # (a DoPut command without it lands in bronze only).
    command = json.dumps({"table": "prices_daily", "source": a.source, "promote": True}).encode()
    files = sorted(glob.glob(os.path.join(a.dir, "upload-*.arrow")))
    tables = [pa.ipc.open_file(pa.memory_map(f)).read_all() for f in files]  # zero-copy: pages of the files
    puts = []
    t0_epoch = time.time()
    t0 = time.perf_counter()
    for f, table in zip(files, tables):
        s = time.perf_counter()
        writer, reader = client.do_put(fl.FlightDescriptor.for_command(command), table.schema)
        writer.write_table(table, max_chunksize=a.batch_rows)
        writer.done_writing()
        meta = reader.read()
        ack = json.loads(meta.to_pybytes()) if meta is not None else {}
        if isinstance(ack, list):  # an engine that answers with its StorageReports once applied
            ack = {"state": "applied"}
        writer.close()
        e = time.perf_counter()
        puts.append({"file": os.path.basename(f), "rows": table.num_rows, "arrow_bytes": table.nbytes, "start": s - t0,
                     "seconds": e - s, "run_id": ack.get("run_id"), "state": ack.get("state"), "visible": ack.get("visible")})
        log(f"  put: {table.num_rows:,} rows acknowledged in {e - s:.2f} s (run {ack.get('run_id')}, t={e - t0:.1f} s)")
    acked = time.perf_counter() - t0
    applied = []
    for p in puts:
        if p["run_id"] is None or p["state"] == "applied":
            applied.append({"run_id": p["run_id"], "state": "applied", "error": None, "at": p["start"] + p["seconds"]})
            continue
        body = json.dumps({"run_id": p["run_id"], "wait": True}).encode()
        while True:
            status = json.loads(list(client.do_action(fl.Action("upload-status", body)))[-1].body.to_pybytes())
            if status.get("state") in ("applied", "failed"):
                break
        applied.append({"run_id": p["run_id"], "state": status.get("state"), "error": status.get("error"),
                        "at": time.perf_counter() - t0})
        log(f"  put: run {p['run_id']} {status.get('state')} at t={time.perf_counter() - t0:.1f} s")
    emit({"client": f"pyarrow {pa.__version__}", "rows": sum(p["rows"] for p in puts),
          "arrow_bytes": sum(p["arrow_bytes"] for p in puts), "acked_seconds": acked, "t0_epoch": t0_epoch,
          "applied_seconds": time.perf_counter() - t0, "puts": puts, "applied": applied})


def runs_within(budget, max_runs, min_runs=1):
    start = time.perf_counter()
    n = 0
    while n < max_runs and (n < min_runs or time.perf_counter() - start < budget):
        yield n
        n += 1


def cmd_dataset(a):
    import pyarrow as pa
    import pyarrow.dataset as ds

    runs = []
    for _ in runs_within(a.budget, a.max_runs):
        s = time.perf_counter()
        d = ds.dataset(a.dir, format="parquet")
        if a.stream:
            rows = nbytes = 0
            for b in d.to_batches():
                rows += b.num_rows
                nbytes += b.nbytes
        else:
            t = d.to_table()
            rows, nbytes = t.num_rows, t.nbytes
            del t
        runs.append({"seconds": time.perf_counter() - s, "rows": rows, "arrow_bytes": nbytes, "files": len(d.files)})
        log(f"  dataset: {rows:,} rows, {nbytes / 1e6:,.0f} MB in {runs[-1]['seconds']:.2f} s")
    emit({"pyarrow": pa.__version__, "stream": a.stream, "runs": runs})


def cmd_reference(a):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    start = time.perf_counter()
    d = ds.dataset(a.dir, format="parquet")
    schema = d.schema
    group = 1024 * 1024  # pq.write_table's default row group length: slices of exactly this size give the same file
    if a.chunk_rows <= 0:
        # It fits: exactly the documented call.
        t = d.to_table().sort_by([("symbol", "ascending"), ("date", "ascending")])
        pq.write_table(t, a.out, compression="zstd")
        rows = t.num_rows
        del t
        how = "pq.write_table(sorted table, compression='zstd')"
    else:
        # Too large for memory: symbol ranges read in order (row groups pruned by statistics), each sorted, written
        # through one ParquetWriter in slices of exactly the default row group length: the same file write_table makes.
        symbols = set()
        for b in d.to_batches(columns=["symbol"]):
            symbols.update(pc.unique(b.column(0)).to_pylist())
        symbols = sorted(symbols)
        total = d.count_rows()
        per = max(1, int(len(symbols) * a.chunk_rows / max(total, 1)))
        writer = pq.ParquetWriter(a.out, schema, compression="zstd")
        carry = None
        rows = 0
        for i in range(0, len(symbols), per):
            lo = symbols[i]
            hi = symbols[min(i + per, len(symbols)) - 1]
            part = d.to_table(filter=(ds.field("symbol") >= lo) & (ds.field("symbol") <= hi))
            part = part.sort_by([("symbol", "ascending"), ("date", "ascending")])
            carry = part if carry is None else pa.concat_tables([carry, part])
            whole = (carry.num_rows // group) * group
            for off in range(0, whole, group):
                writer.write_table(carry.slice(off, group))
            carry = carry.slice(whole)
            rows += part.num_rows
            log(f"  reference: {rows:,}/{total:,} rows sorted and written ({time.perf_counter() - start:.0f} s)")
        if carry is not None and carry.num_rows > 0:
            writer.write_table(carry)
        writer.close()
        how = f"pq.ParquetWriter(zstd) fed symbol ranges in {group:,}-row slices (= write_table's file)"
    meta = pq.ParquetFile(a.out).metadata
    emit({"rows": rows, "bytes": os.path.getsize(a.out), "row_groups": meta.num_row_groups, "seconds": time.perf_counter() - start,
          "how": how, "pyarrow": pa.__version__})


def cmd_scan(a):
    import pyarrow as pa
    import pyarrow.flight as fl

    client = fl.connect(a.address)
    ticket = fl.Ticket(a.ticket.encode())
    runs = []
    for _ in runs_within(a.budget, a.max_runs, a.min_runs):
        s = time.perf_counter()
        reader = client.do_get(ticket)
        if a.stream:
            rows = nbytes = 0
            while True:
                try:
                    chunk = reader.read_chunk()
                except StopIteration:
                    break
                rows += chunk.data.num_rows
                nbytes += chunk.data.nbytes
        else:
            t = reader.read_all()
            rows, nbytes = t.num_rows, t.nbytes
            del t
        runs.append({"seconds": time.perf_counter() - s, "rows": rows, "arrow_bytes": nbytes})
        log(f"  scan: {rows:,} rows, {nbytes / 1e6:,.0f} MB in {runs[-1]['seconds']:.2f} s")
    emit({"pyarrow": pa.__version__, "stream": a.stream, "runs": runs})


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--symbols", type=int, required=True)
    g.add_argument("--prefix", default="PUT")
    g.add_argument("--from", dest="date_from", required=True)
    g.add_argument("--to", dest="date_to", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--max-rows", type=int, default=5_000_000)
    u = sub.add_parser("put")
    u.add_argument("--address", required=True)
    u.add_argument("--dir", required=True)
    u.add_argument("--source", default="bench")
    u.add_argument("--batch-rows", type=int, default=100_000)
    for name in ("dataset", "scan"):
        s = sub.add_parser(name)
        s.add_argument("--stream", action="store_true")
        s.add_argument("--budget", type=float, default=30)
        s.add_argument("--max-runs", type=int, default=5)
        s.add_argument("--min-runs", type=int, default=1)
        if name == "dataset":
            s.add_argument("--dir", required=True)
        else:
            s.add_argument("--address", required=True)
            s.add_argument("--ticket", required=True)
    r = sub.add_parser("reference")
    r.add_argument("--dir", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--chunk-rows", type=int, default=0)
    a = p.parse_args()
    {"gen": cmd_gen, "put": cmd_put, "dataset": cmd_dataset, "reference": cmd_reference, "scan": cmd_scan}[a.mode](a)


if __name__ == "__main__":
    main()
