"""Shared by the soak scripts: start `alertbroker mock-kafka` and read its bootstrap servers."""
import re
import subprocess
import sys


def start(alertbroker, topics=("alerts", "out", "dead")):
    """Starts librdkafka's mock cluster with the topics; returns (process, bootstrap servers). Exits when none are printed."""
    args = [alertbroker, "mock-kafka"]
    for t in topics:
        args += ["--topic", t]
    kafka = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for _ in range(100):
        m = re.search(r"(127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)*)", kafka.stdout.readline())
        if m:
            return kafka, m.group(1)
    kafka.kill()
    sys.exit("mock-kafka printed no bootstrap servers")
