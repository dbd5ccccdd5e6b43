#!/usr/bin/env python3
"""kv-sqlite.py -- key-value benchmark of SQLite (the system libsqlite3 via python's sqlite3 module).

Usage:
  kv-sqlite.py load   --dir D --keys N [--batch 1000]
  kv-sqlite.py commit --dir D --keys N --clients C --duration S
  kv-sqlite.py read   --dir D --keys N --clients C --duration S

Database D/kv.db, PRAGMA journal_mode=WAL, synchronous=FULL (every commit fsyncs the WAL), default page size,
cache size and auto-checkpoint (1000 pages). Table:
  CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID
WITHOUT ROWID stores each row inside the primary-key B-tree, i.e. one clustered B-tree keyed by k -- the shape of a
key-value store. A rowid table would keep a second B-tree (rowid -> row) plus the k index, so every upsert would
touch two trees and every lookup would do two descents. With 16 B keys + 100 B values the rows are far below the
size where WITHOUT ROWID stops paying off (~1/20 of a page).

Keys are b'%016d' % i for i in 0..N-1 (16 ASCII bytes); values are 100 deterministic pseudo-random bytes.
  load:   one connection, N keys in ascending order, `batch` rows per explicit transaction (durable commit);
          latency = per-transaction time (BEGIN, executemany, COMMIT); seconds = sum of those (the python row
          generation between transactions is excluded; reported as seconds_with_row_generation).
          Deletes an existing D/kv.db first.
  commit: C processes, each its own connection (busy_timeout 600 s, autocommit), loop for S s: one
          INSERT .. ON CONFLICT(k) DO UPDATE SET v=excluded.v of a uniformly random existing key = one durable
          transaction; latency = time of that execute().
  read:   C processes, each its own connection, loop for S s: SELECT v FROM kv WHERE k=? of a uniformly random
          key; latency = execute() + fetchone().
commit/read first run PRAGMA wal_checkpoint(TRUNCATE) (untimed) so every measurement starts with an empty WAL.
All workers open their connection, warm up, then start together (barrier); ops/s = all ops / (last worker end -
first worker start). Prints one JSON line at the end.
"""
import argparse
import array
import json
import multiprocessing as mp
import os
import random
import sqlite3
import sys
import time

KEY_FMT = b'%016d'
VALUE_SIZE = 100
BUSY_TIMEOUT_S = 600.0
UPSERT = 'INSERT INTO kv(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v'
SELECT = 'SELECT v FROM kv WHERE k = ?'


def db_path(d):
    return os.path.join(d, 'kv.db')


def connect(d):
    # isolation_level=None: real autocommit (python does not issue BEGIN behind our back).
    con = sqlite3.connect(db_path(d), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    mode = con.execute('PRAGMA journal_mode=WAL').fetchone()[0]
    if mode.lower() != 'wal':
        raise SystemExit(f'journal_mode is {mode}, not wal')
    con.execute('PRAGMA synchronous=FULL')
    return con


def percentiles(lat_ns):
    """lat_ns: list/array of latencies in ns -> (p50_us, p99_us, max_us)."""
    if not lat_ns:
        return None, None, None
    s = sorted(lat_ns)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))] / 1000.0
    return round(pick(0.50), 1), round(pick(0.99), 1), round(s[-1] / 1000.0, 1)


def emit(**fields):
    print(json.dumps(fields), flush=True)


def do_load(a):
    for suffix in ('', '-wal', '-shm', '-journal'):
        try:
            os.unlink(db_path(a.dir) + suffix)
        except FileNotFoundError:
            pass
    con = connect(a.dir)
    con.execute('CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID')
    rng = random.Random(42)
    lat = array.array('q')
    t0 = time.perf_counter_ns()
    # Rows are generated in python before each transaction; only BEGIN..COMMIT is timed (ops/s = keys / sum of them).
    for lo in range(0, a.keys, a.batch):
        hi = min(a.keys, lo + a.batch)
        rows = [(KEY_FMT % i, rng.randbytes(VALUE_SIZE)) for i in range(lo, hi)]
        b0 = time.perf_counter_ns()
        con.execute('BEGIN')
        con.executemany('INSERT INTO kv(k, v) VALUES (?, ?)', rows)
        con.execute('COMMIT')
        lat.append(time.perf_counter_ns() - b0)
    total = (time.perf_counter_ns() - t0) / 1e9
    secs = sum(lat) / 1e9
    con.close()
    p50, p99, mx = percentiles(lat)
    size = sum(os.path.getsize(db_path(a.dir) + s) for s in ('', '-wal') if os.path.exists(db_path(a.dir) + s))
    emit(system='sqlite', mode='load', clients=1, ops=a.keys, seconds=round(secs, 3),
         ops_per_sec=round(a.keys / secs, 1), p50_us=p50, p99_us=p99, max_us=mx,
         latency_unit=f'transaction of {a.batch} rows', batch=a.batch, db_bytes=size,
         seconds_with_row_generation=round(total, 3),
         sqlite_version=sqlite3.sqlite_version)


def worker(wid, a, barrier, outq):
    """One client process: own connection, loop until its deadline, send (ops, t_start, t_end, errors) and write
    its latencies (ns, int64) to a file in --dir (too many to push through a queue)."""
    try:
        con = connect(a.dir)
        rng = random.Random(1000 + wid)
        n, write = a.keys, a.mode == 'commit'
        # Warm-up (untimed): one op, so the connection has parsed the schema and cached the statement.
        con.execute(SELECT, (KEY_FMT % rng.randrange(n),)).fetchone()
        lat = array.array('q')
        errors = 0
        barrier.wait()
        clock = time.monotonic_ns                # CLOCK_MONOTONIC: comparable across processes
        t_start = clock()
        deadline = t_start + int(a.duration * 1e9)
        ex = con.execute
        while True:
            k = KEY_FMT % rng.randrange(n)
            if write:
                v = rng.randbytes(VALUE_SIZE)
                t = clock()
                try:
                    ex(UPSERT, (k, v))
                except sqlite3.OperationalError:     # "database is locked" after busy_timeout: count, go on
                    errors += 1
                    continue
            else:
                t = clock()
                ex(SELECT, (k,)).fetchone()
            e = clock()
            lat.append(e - t)
            if e >= deadline:
                break
        t_end = clock()
        con.close()
        with open(os.path.join(a.dir, f'lat-{os.getpid()}.bin'), 'wb') as f:
            lat.tofile(f)
        outq.put((wid, len(lat), t_start, t_end, errors, f.name))
    except BaseException as ex:  # report instead of hanging the parent
        outq.put((wid, None, repr(ex)))
        raise


def do_clients(a):
    if not os.path.exists(db_path(a.dir)):
        raise SystemExit(f'{db_path(a.dir)} does not exist: run load first')
    con = connect(a.dir)
    con.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    have = con.execute('SELECT count(*) FROM kv').fetchone()[0]
    con.close()
    if have < a.keys:
        raise SystemExit(f'kv has {have} rows, fewer than --keys {a.keys}: run load with --keys {a.keys}')
    ctx = mp.get_context('fork')
    barrier, outq = ctx.Barrier(a.clients), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(i, a, barrier, outq)) for i in range(a.clients)]
    for p in procs:
        p.start()
    results = [outq.get() for _ in procs]
    for p in procs:
        p.join()
    bad = [r for r in results if r[1] is None]
    if bad:
        raise SystemExit(f'worker failed: {bad[0]}')
    lat = array.array('q')
    for _, _, _, _, _, path in results:
        with open(path, 'rb') as f:
            lat.frombytes(f.read())
        os.unlink(path)
    ops = sum(r[1] for r in results)
    secs = (max(r[3] for r in results) - min(r[2] for r in results)) / 1e9
    p50, p99, mx = percentiles(lat)
    emit(system='sqlite', mode=a.mode, clients=a.clients, ops=ops, seconds=round(secs, 3),
         ops_per_sec=round(ops / secs, 1), p50_us=p50, p99_us=p99, max_us=mx,
         errors=sum(r[4] for r in results),
         per_client_ops_min=min(r[1] for r in results), per_client_ops_max=max(r[1] for r in results),
         sqlite_version=sqlite3.sqlite_version)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('mode', choices=('load', 'commit', 'read'))
    ap.add_argument('--dir', required=True, help='directory for kv.db (created if missing)')
    ap.add_argument('--keys', type=int, default=1_000_000)
    ap.add_argument('--batch', type=int, default=1000, help='load: rows per transaction')
    ap.add_argument('--clients', type=int, default=1, help='commit/read: client processes')
    ap.add_argument('--duration', type=float, default=10.0, help='commit/read: seconds')
    a = ap.parse_args()
    if a.keys < 1 or a.batch < 1 or a.clients < 1 or a.duration <= 0:
        ap.error('--keys, --batch, --clients and --duration must be positive')
    os.makedirs(a.dir, exist_ok=True)
    if a.mode == 'load':
        if a.clients != 1:
            print('load: --clients ignored (one connection)', file=sys.stderr)
        do_load(a)
    else:
        do_clients(a)


if __name__ == '__main__':
    main()
