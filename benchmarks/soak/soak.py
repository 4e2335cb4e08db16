#!/usr/bin/env python3
"""Soak run of the whole worker: memory, lag and throughput over minutes, not a benchmark of speed.

Starts a Redis server (loopback, no persistence), librdkafka's mock Kafka cluster (`alertbroker mock-kafka`), pushes and
promotes a model into a Redis registry, runs `alertbroker run` with Redis state, the registry and the web view, and
replays an alert file into Kafka at a fixed rate (`alertbroker replay --to-kafka --rate R --repeat N`: after the first
pass every alert is a re-delivery). Every 30 s it prints the worker's resident memory (/proc), its managed heap after
the last collection and its alert count and consumer lag (/metrics), Redis's memory and key count, and asks the web API
for the overview and the recent classifications. Ends with SIGTERM to the worker (its exit code is printed).

Usage (docs/performance.md, "A long run"):
  alertbroker simulate alerts --survey ztf --nights 90 --objects-per-night 60 --no-cutouts --format avro --seed 7 --out /tmp/soak-ztf.avro
  dotnet publish src/AlertBroker.Cli -c Release -o /tmp/ab
  python3 benchmarks/soak/soak.py --alertbroker /tmp/ab/alertbroker --alerts /tmp/soak-ztf.avro --seconds 900 --rate 1000
"""
import argparse, json, os, re, signal, subprocess, sys, time, urllib.request

import mockkafka

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--alertbroker", required=True, help="the published alertbroker executable")
ap.add_argument("--alerts", required=True, help="alert file or folder to replay")
ap.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", "..", "models", "ztf-bts", "2.7.0"))
ap.add_argument("--seconds", type=int, default=600)
ap.add_argument("--rate", default="400", help="alerts per second sent")
ap.add_argument("--repeat", default="20", help="passes over the alerts")
ap.add_argument("--redis-port", default="6411")
ap.add_argument("--http-port", default="9611")
ap.add_argument("--logs", default=".", help="where worker.log and producer.log go")
ap.add_argument("--swap-model", help="a second model package: promoted and rolled back in turn every --swap-every seconds (hot swaps)")
ap.add_argument("--swap-every", type=float, default=0, help="seconds between hot swaps (0: none)")
a = ap.parse_args()
if (a.swap_model is None) != (a.swap_every <= 0):
    sys.exit("--swap-model and a positive --swap-every go together")
AB = [a.alertbroker]
URL = f"http://127.0.0.1:{a.http_port}"


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True)


def total(text, name):
    values = [float(l.split()[-1]) for l in text.splitlines() if l.startswith(name) and not l.startswith("#")]
    return sum(values) if values else None


sh("redis-server", "--port", a.redis_port, "--daemonize", "yes", "--save", "", "--appendonly", "no")
kafka, bootstrap = mockkafka.start(a.alertbroker)
registry = ["--redis", "127.0.0.1:" + a.redis_port, "--prefix", "soak"]
print(sh(*AB, "models", "push", a.model, *registry).stdout.strip().splitlines()[-1], flush=True)
manifest = json.load(open(os.path.join(a.model, "model.json")))
name_version = manifest["name"] + "@" + manifest["version"]
print(sh(*AB, "models", "promote", name_version, *registry).stdout.strip().splitlines()[-1], flush=True)
swaps = []
if a.swap_model:
    print(sh(*AB, "models", "push", a.swap_model, *registry).stdout.strip().splitlines()[-1], flush=True)
    swap_manifest = json.load(open(os.path.join(a.swap_model, "model.json")))
    swaps = [swap_manifest["name"] + "@" + swap_manifest["version"], name_version]
worker = subprocess.Popen(
    AB + ["run", "--bootstrap-servers", bootstrap, "--topic", "alerts", "--output-topic", "out", "--dead-letter-topic", "dead",
          "--redis", "127.0.0.1:" + a.redis_port, "--model-registry-redis", "127.0.0.1:" + a.redis_port, "--http-port", a.http_port, "--web"],
    stdout=open(os.path.join(a.logs, "worker.log"), "w"), stderr=subprocess.STDOUT, env=dict(os.environ, AlertBroker__Model__RegistryPrefix="soak"))
time.sleep(8)
producer = subprocess.Popen(
    AB + ["replay", a.alerts, "--to-kafka", "--bootstrap-servers", bootstrap, "--topic", "alerts", "--rate", a.rate, "--repeat", a.repeat, "--quiet"],
    stdout=open(os.path.join(a.logs, "producer.log"), "w"), stderr=subprocess.STDOUT)
start = time.time()
swapped = 0
swap_at = start + a.swap_every
try:
    while time.time() - start < a.seconds:
        # A sample every 30 s; swaps on their own clock in between (a swap interval over 30 s spans samples).
        sample_at = time.time() + 30
        while swaps and swap_at < sample_at:
            time.sleep(max(0.0, swap_at - time.time()))
            # --force: the gate's holdout comparison is not what is soaked here; the swap is.
            result = sh(*AB, "models", "promote", swaps[swapped % 2], *registry, "--force")
            if result.returncode != 0:
                print("promote:", result.returncode, result.stderr.strip(), flush=True)
            swapped += 1
            swap_at = max(swap_at + a.swap_every, time.time())
        time.sleep(max(0.0, sample_at - time.time()))
        rss = int(open(f"/proc/{worker.pid}/status").read().split("VmRSS:")[1].split()[0]) // 1024
        try:
            metrics = urllib.request.urlopen(URL + "/metrics", timeout=5).read().decode()
            urllib.request.urlopen(URL + "/api/overview", timeout=5).read()
            urllib.request.urlopen(URL + "/api/objects/recent", timeout=5).read()
        except Exception as e:  # noqa: BLE001 - printed, the run goes on
            metrics = ""
            print("http:", e, flush=True)
        heap = (total(metrics, "dotnet_gc_last_collection_heap_size_bytes") or 0) / 2**20
        redis_memory = re.search(r"used_memory_human:(\S+)", sh("redis-cli", "-p", a.redis_port, "info", "memory").stdout).group(1)
        keys = sh("redis-cli", "-p", a.redis_port, "dbsize").stdout.strip()
        print(f"t={int(time.time() - start)}s rss={rss}MB heap={heap:.0f}MB alerts={total(metrics, 'alertbroker_alerts_received_total')} "
              f"lag={total(metrics, 'alertbroker_consumer_lag')} dead={total(metrics, 'alertbroker_dead_letters_total')} "
              f"redis={redis_memory} keys={keys} swaps={swapped} producer={'sending' if producer.poll() is None else 'done'}", flush=True)
finally:
    producer.terminate()
    producer.wait()
    worker.send_signal(signal.SIGTERM)
    print("worker exit code", worker.wait(timeout=60), flush=True)
    kafka.send_signal(signal.SIGINT)
    try:
        kafka.wait(timeout=20)
    except subprocess.TimeoutExpired:
        kafka.kill()
    sh("redis-cli", "-p", a.redis_port, "shutdown", "nosave")
