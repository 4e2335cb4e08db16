#!/usr/bin/env python3
"""Wall time and peak RSS of `alertbroker replay FILE --to-kafka` into librdkafka's mock cluster, process start included.
Not a unit test: a measurement for docs/avro.md ("The writer's fixed cost per container") and docs/performance.md (large
container files). ZTF alerts are sent as one container each, so this shows the container writer's cost per message.
Peak RSS comes from GNU time (/usr/bin/time -f %M).

    alertbroker simulate alerts --survey ztf --nights 30 --objects-per-night 60 --no-cutouts --format avro --seed 7 --out /tmp/ztf.avro
    python3 benchmarks/soak/replaytime.py --alertbroker /tmp/ab/alertbroker --file /tmp/ztf.avro --runs 3
"""
import argparse
import subprocess
import sys
import time

import mockkafka

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--alertbroker", required=True, help="the alertbroker executable")
p.add_argument("--file", required=True, help="an alert archive (simulate alerts --format avro)")
p.add_argument("--runs", type=int, default=3)
a = p.parse_args()

kafka, bootstrap = mockkafka.start(a.alertbroker, topics=("alerts",))
try:
    for _ in range(a.runs):
        start = time.monotonic()
        r = subprocess.run(["/usr/bin/time", "-f", "peak-rss-kb %M", a.alertbroker, "replay", a.file, "--to-kafka",
                            "--bootstrap-servers", bootstrap, "--topic", "alerts", "--quiet"], capture_output=True, text=True)
        wall = time.monotonic() - start
        if r.returncode != 0:
            sys.exit(f"replay --to-kafka: exit {r.returncode}: {r.stderr.strip()}")
        rss = next((int(l.split()[1]) for l in r.stderr.splitlines() if l.startswith("peak-rss-kb ")), 0)
        last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        print(f"{wall:.2f} s wall, peak RSS {rss / 1024:.0f} MB: {last}")
finally:
    kafka.kill()
