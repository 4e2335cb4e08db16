#!/usr/bin/env python3
"""A flood of dead letters through the whole worker: how fast `alertbroker run` dead-letters a stream it cannot read, and
how many log lines and bytes that costs. Not a unit test: a measurement for docs/performance.md.

The flood is the commonest one in practice: Rubin alerts (Confluent wire) reaching a worker that has no
schema source for them, so every message is dead-lettered as SchemaNotFound. (`replay --to-kafka` publishes only what it
can decode, so random bytes cannot be sent this way.) The mock keeps about 5 MB per partition: 4 partitions x 2.7 kB
alerts bound --messages to about 6,000.

    python3 benchmarks/soak/flood.py --alertbroker /tmp/ab/alertbroker --messages 5000
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import mockkafka

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--alertbroker", required=True, help="the published alertbroker executable")
p.add_argument("--messages", type=int, default=5000, help="Rubin alerts the worker has no schema for (at most 6000)")
p.add_argument("--http-port", default="19466")
a = p.parse_args()
AB = [a.alertbroker]
work = tempfile.mkdtemp(prefix="ab-flood-")
if not 1 <= a.messages <= 6000:
    sys.exit("--messages: 1 to 6000 (the mock keeps about 5 MB per partition)")
poison = os.path.join(work, "rubin.avro")
sim = subprocess.run(AB + ["simulate", "alerts", "--survey", "lsst", "--nights", "30", "--objects-per-night", "40", "--no-cutouts",
                           "--format", "avro", "--seed", "3", "--out", poison], capture_output=True, text=True)
if sim.returncode != 0:
    sys.exit(f"simulate alerts: exit {sim.returncode}: {sim.stderr.strip()}")

kafka, bootstrap = mockkafka.start(a.alertbroker)
worker = None
try:
    sent = subprocess.run(AB + ["replay", poison, "--to-kafka", "--bootstrap-servers", bootstrap, "--topic", "alerts", "--limit", str(a.messages),
                           "--write-schemas", os.path.join(work, "schemas"), "--quiet"], capture_output=True, text=True)
    if sent.returncode != 0:
        sys.exit(f"replay --to-kafka: exit {sent.returncode}: {sent.stderr.strip()}")
    log = os.path.join(work, "worker.log")
    worker = subprocess.Popen(
        AB + ["run", "--bootstrap-servers", bootstrap, "--topic", "alerts", "--output-topic", "out", "--dead-letter-topic", "dead",
              "--in-memory", "--random-model", "--http-port", a.http_port],
        stdout=open(log, "w"), stderr=subprocess.STDOUT)
    first = last = None
    deadline = time.time() + 600
    while time.time() < deadline:
        time.sleep(0.01)
        try:
            metrics = urllib.request.urlopen(f"http://127.0.0.1:{a.http_port}/metrics", timeout=5).read().decode()
        except Exception:  # noqa: BLE001 - not up yet
            continue
        dead = sum(float(l.split()[-1]) for l in metrics.splitlines() if l.startswith("alertbroker_dead_letters_total") and not l.startswith("#"))
        if dead > 0 and first is None:
            first = (time.time(), dead)
        if dead >= a.messages:
            last = (time.time(), dead)
            break
    worker.send_signal(signal.SIGTERM)
    code = worker.wait(60)
    if first is None or last is None:
        sys.exit(f"not every message was dead-lettered in time (worker exit {code}); log: {log}")
    text = open(log).read()
    lines = text.count("\n")
    per_letter = len(re.findall(r"Dead letter from", text))
    if last[0] > first[0]:
        rate = f"{(last[1] - first[1]) / (last[0] - first[0]):,.0f} dead letters/s after the first (sampled every 0.01 s)"
    else:
        rate = "all within one 0.01-s sample (rate not resolved: send more)"
    print(f"{a.messages} poison messages dead-lettered; {rate}; "
          f"worker log {lines:,} lines, {len(text.encode()):,} bytes ({per_letter:,} 'Dead letter from' lines); exit {code}")
finally:
    if worker is not None and worker.poll() is None:
        worker.kill()
    kafka.terminate()
    kafka.wait(30)
