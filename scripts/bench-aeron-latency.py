#!/usr/bin/env python3
# Issue 24 figure (BENCHMARKS.md, "Issue 24: Aeron"): detection latency over Aeron IPC, paced.
# The daemon (run --clock ingest --out-aeron aeron:ipc, embedded driver) is fed by two
# `fxrecon publish --rate` processes at their shares of RATE; `fxrecon tail` on the divergence
# stream is read here, each record stamped on receipt (wall clock, us) minus its detected_at (the
# arrival stamp of the deciding message, or its grace deadline: D19). End-of-input flush records
# (decided before due) are left out. Includes the output path and tail's 1 ms idle sleep.
# Usage: FXRECON_BIN=target/release/fxrecon scripts/bench-aeron-latency.py [RATE] [ORDERS]
import datetime, json, os, shutil, subprocess, sys, tempfile, threading, time
B=os.environ.get("FXRECON_BIN", os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "fxrecon"))
W=tempfile.mkdtemp(prefix="fxrecon-lat-")
try:
    rate=int(sys.argv[1]) if len(sys.argv)>1 else 200000
    orders=sys.argv[2] if len(sys.argv)>2 else "125000"
    subprocess.run([B,"gen","--orders",orders,"--seed","7","--out-dir",W+"/day"],check=True,capture_output=True)
    n=[sum(1 for _ in open(W+"/day/"+f,"rb")) for f in ("primary.fix","dropcopy.fix")]
    rates=[max(1,round(rate*x/sum(n))) for x in n]
    d=subprocess.Popen([B,"run","--primary","aeron:ipc","--dropcopy","aeron:ipc","--clock","ingest","--out-aeron","aeron:ipc","--state-dir",W+"/st","--out",W+"/out.jsonl","--rejects",W+"/rej"],stderr=open(W+"/d.err","w"))
    ad=W+"/st/aeron-driver"
    while not os.path.exists(ad+"/cnc.dat"): time.sleep(0.01)
    t=subprocess.Popen([B,"tail","--aeron-dir",ad],stdout=subprocess.PIPE,stderr=subprocess.PIPE,bufsize=0)
    t.stderr.readline()
    got=[]
    def rd():
        f=t.stdout
        buf=b""
        while True:
            ch=os.read(f.fileno(),1<<16)
            if not ch: break
            now=time.time_ns()//1000
            buf+=ch
            *lines,buf=buf.split(b"\n")
            for l in lines: got.append((now,l))
    th=threading.Thread(target=rd); th.start()
    ps=[subprocess.Popen([B,"publish","--stream",s,"--file",W+"/day/"+s+".fix","--aeron-dir",ad,"--rate",str(r)],stderr=subprocess.DEVNULL) for s,r in (("primary",rates[0]),("dropcopy",rates[1]))]
    for p in ps: p.wait()
    d.wait(); th.join(); t.wait()
    lat=[]
    for now,l in got:
        r=json.loads(l)
        ts=datetime.datetime.fromisoformat(r["detected_at"].replace("Z","+00:00")).timestamp()
        x=now-int(round(ts*1e6))
        if x>=0: lat.append(x)
    lat.sort()
    q=lambda p: lat[min(len(lat)-1,int(p*len(lat)))]/1000
    print(f"rate {rate} msgs/s ({rates}), records received {len(got)}, measured {len(lat)}: p50 {q(0.5):.3f} ms p99 {q(0.99):.3f} ms p99.9 {q(0.999):.3f} ms max {lat[-1]/1000:.3f} ms")
    print("sample detected_at:", json.loads(got[0][1])["detected_at"])
finally:
    shutil.rmtree(W,ignore_errors=True)
