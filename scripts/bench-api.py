#!/usr/bin/env python3
"""Pipeline rate of `fxrecon run` with and without queries at a fixed rate (issue 25, D70).

Usage: scripts/bench-api.py BIN DAYDIR [--rate 1000] [--rounds 3] [--orders-only]
                            [--driver target/release/examples/api_load] [--connections N]
DAYDIR holds primary.fix and dropcopy.fix (`fxrecon gen --orders N --out-dir DAYDIR`).
Each round runs the day twice, back to back, in alternating order: once with the API up and
nobody asking, once with a driver asking GET /v1/orders/{id} and /v1/divergences?open=true&type=StateMismatch in turn (or orders only) at
--rate requests per second over one keep-alive connection (Python), or over --connections
keep-alive connections from the Rust driver (`cargo build --release -p fxrecon-api --example
api_load`), which costs the host far less CPU a request. Prints each run's messages_per_s
(from run's summary) and the medians and their ratio.
"""
ORDERS_ONLY = False
RUN_ARGS = []
DRIVER = None
CONNECTIONS = 1
import argparse, http.client, json, os, re, statistics, subprocess, sys, tempfile, threading, time

def ids_of(primary):
    with open(primary, "rb") as f:
        head = f.read(4 << 20)
    return sorted(set(m.decode() for m in re.findall(rb"\x0111=([^\x01]+)\x01", head)))[:500]

def run_argv(binary, day, tmp, addr_file, *extra):
    """`fxrecon run` over the day with the API on an ephemeral port, plus --run-arg's arguments."""
    return [binary, "run", *extra, "--primary", os.path.join(day, "primary.fix"),
            "--dropcopy", os.path.join(day, "dropcopy.fix"), "--out", os.path.join(tmp, "out.jsonl"),
            "--api", "127.0.0.1:0", "--api-addr-file", addr_file, *RUN_ARGS]

def one_run(binary, day, rate, ids):
    with tempfile.TemporaryDirectory(prefix="fxrecon-bench-api-") as tmp:
        addr_file = os.path.join(tmp, "addr")
        p = subprocess.Popen(run_argv(binary, day, tmp, addr_file), stderr=subprocess.PIPE, text=True)
        done = threading.Event()
        sent = [0, 0]
        def drive():
            while not os.path.exists(addr_file) or not open(addr_file).read().endswith("\n"):
                if done.is_set():
                    return
                time.sleep(0.001)
            host, port = open(addr_file).read().strip().rsplit(":", 1)
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            t0 = time.perf_counter()
            i = 0
            while not done.is_set():
                path = f"/v1/orders/{ids[i % len(ids)]}" if i % 2 == 0 or ORDERS_ONLY else "/v1/divergences?open=true&type=StateMismatch"
                try:
                    c.request("GET", path)
                    r = c.getresponse()
                    r.read()
                    sent[0] += 1
                    sent[1] += r.status in (200, 404)
                except Exception:
                    return
                i += 1
                wait = t0 + i / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
        t = threading.Thread(target=drive)
        driver = None
        if rate > 0 and DRIVER:
            paths = os.path.join(tmp, "paths")
            with open(paths, "w") as f:
                for i, oid in enumerate(ids):
                    f.write(f"/v1/orders/{oid}\n")
                    if not ORDERS_ONLY:
                        f.write("/v1/divergences?open=true&type=StateMismatch\n")
            driver = subprocess.Popen([DRIVER, addr_file, str(rate), str(CONNECTIONS), paths],
                                      stdout=subprocess.PIPE, text=True)
        elif rate > 0:
            t.start()
        _, err = p.communicate()
        done.set()
        if driver:
            out, _ = driver.communicate()
            sent[0] = json.loads(out)["sent"]
        elif rate > 0:
            t.join()
        summary = json.loads(err[err.index("{"):])
        return summary["messages_per_s"], summary["elapsed_ms"], sent[0]

def thread_cpu(pid):
    """CPU seconds (user + system) per thread name of process `pid`."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / tick
    return out

def cpu_per_query(binary, day, rate, ids, secs):
    """CPU each thread of a following daemon spends while the driver asks at `rate` for `secs`
    seconds, once the day is consumed (the pipeline idle): the cost a question takes from the
    cores the pipeline would use."""
    with tempfile.TemporaryDirectory(prefix="fxrecon-bench-api-") as tmp:
        addr_file = os.path.join(tmp, "addr")
        p = subprocess.Popen(run_argv(binary, day, tmp, addr_file, "--follow"), stderr=subprocess.DEVNULL)
        while not os.path.exists(addr_file) or not open(addr_file).read().endswith("\n"):
            time.sleep(0.01)
        host, port = open(addr_file).read().strip().rsplit(":", 1)
        t0 = time.time()
        while True:
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            c.request("GET", "/readyz")
            r = c.getresponse()
            body = r.read()
            if r.status == 200:
                break
            if time.time() - t0 > 120:
                p.kill()
                sys.exit(f"the daemon never got ready: {body}")
            time.sleep(0.2)
        paths = os.path.join(tmp, "paths")
        with open(paths, "w") as f:
            for oid in ids:
                f.write(f"/v1/orders/{oid}\n")
                if not ORDERS_ONLY:
                    f.write("/v1/divergences?open=true&type=StateMismatch\n")
        idle0 = thread_cpu(p.pid)
        time.sleep(secs)
        idle1 = thread_cpu(p.pid)
        driver = subprocess.Popen([DRIVER, addr_file, str(rate), str(CONNECTIONS), paths], stdout=subprocess.PIPE, text=True)
        before = thread_cpu(p.pid)
        time.sleep(secs)
        after = thread_cpu(p.pid)
        p.terminate()
        out, _ = driver.communicate()
        p.wait()
        n = json.loads(out)["sent"]
        for name in sorted(after):
            idle = idle1.get(name, 0) - idle0.get(name, 0)
            busy = after[name] - before.get(name, 0)
            print(f"thread {name}: {idle / secs * 100:.1f}% of a core idle, {busy / secs * 100:.1f}% asked; "
                  f"{(busy - idle) / max(n, 1) * 1e6:.1f} us a question more")
        print(f"{n} questions in about {secs} s")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary"); ap.add_argument("day")
    ap.add_argument("--rate", type=float, default=1000); ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--orders-only", action="store_true", help="ask only GET /v1/orders/{id}")
    ap.add_argument("--driver", help="the Rust load driver (examples/api_load) instead of Python")
    ap.add_argument("--connections", type=int, default=1, help="connections of the Rust driver")
    ap.add_argument("--cpu", type=float, metavar="SECS",
                    help="instead: CPU per question of each daemon thread, SECS idle then SECS asked (needs --driver)")
    ap.add_argument("--run-arg", action="append", default=[], metavar="ARG",
                    help="one more argument for `fxrecon run` (repeat: --run-arg=--threading --run-arg=stepped)")
    a = ap.parse_args()
    global ORDERS_ONLY, DRIVER, CONNECTIONS, RUN_ARGS
    ORDERS_ONLY, RUN_ARGS = a.orders_only, a.run_arg
    DRIVER, CONNECTIONS = a.driver, a.connections
    if a.cpu:
        return cpu_per_query(a.binary, a.day, a.rate, ids_of(os.path.join(a.day, "primary.fix")), a.cpu)
    ids = ids_of(os.path.join(a.day, "primary.fix"))
    quiet, asked = [], []
    for r in range(a.rounds):
        order = [0, a.rate] if r % 2 == 0 else [a.rate, 0]
        for rate in order:
            rate_s, ms, n = one_run(a.binary, a.day, rate, ids)
            (asked if rate else quiet).append(rate_s)
            q = f", {n} queries = {n / (ms / 1000):.0f}/s" if rate else ""
            print(f"round {r}: queries {'on ' if rate else 'off'}: {rate_s:.0f} msg/s in {ms} ms{q}", flush=True)
    mq, ma = statistics.median(quiet), statistics.median(asked)
    print(f"median without queries {mq:.0f} msg/s, with {a.rate:.0f}/s queries {ma:.0f} msg/s, ratio {ma / mq:.3f}")

if __name__ == "__main__":
    sys.exit(main())
