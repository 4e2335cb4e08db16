#!/usr/bin/env python3
"""The worker (`alertbroker run`) on a device: alerts in through Kafka, classifications out, a hot swap while it runs.

Starts librdkafka's mock Kafka cluster (`alertbroker mock-kafka`), a directory model registry with ztf-bts 2.7.0 active
for ZTF and lsst-sim 1.1.0 for Rubin, and `alertbroker run --device DEVICE --in-memory --model-registry-dir …`. Replays
the ZTF and Rubin samples into Kafka, reads the classifications back (`consume`), promotes ztf-bts 2.6.0 (a hot swap,
no restart), replays again and reads them back again, then stops the worker with SIGTERM. Prints what each step saw and
exits 1 when a check fails. No Redis, no network beyond loopback.

Usage (docs/performance.md, "On a GPU"), from the checkout's root:
  python3 benchmarks/gpu/worker_cuda.py --alertbroker APP/alertbroker --samples ../shared/alert-samples --device cuda
"""
import argparse, collections, json, os, re, signal, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "soak"))
import mockkafka  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--alertbroker", required=True, help="the published alertbroker executable")
ap.add_argument("--samples", default="../shared/alert-samples", help="holds ztf-real-50/ and lsst/")
ap.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
ap.add_argument("--http-port", default="9612")
ap.add_argument("--logs", default=".", help="where worker.log goes")
a = ap.parse_args()
if not (os.path.isfile(a.alertbroker) and os.access(a.alertbroker, os.X_OK)):
    ap.error(f"--alertbroker {a.alertbroker}: not an executable file")
for sub in ("ztf-real-50", "lsst"):
    if not os.path.isdir(os.path.join(a.samples, sub)):
        ap.error(f"--samples {a.samples}: holds no {sub}/")
if not os.path.isdir("models/ztf-bts/2.7.0"):
    ap.error("run it from the checkout's root (models/ztf-bts/2.7.0 not found)")
AB = [a.alertbroker]
failures = []


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True)


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def wait_for(path, pattern, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if re.search(pattern, open(path).read()):
            return True
        time.sleep(0.2)
    return False


def classifications(bootstrap, expected):
    """Reads the output topic from the beginning until `expected` messages or 20 s without one."""
    r = sh(*AB, "consume", "--topic", "out", "--from-beginning", "--jsonl", "--bootstrap-servers", bootstrap,
           "--timeout", "20", "--limit", str(expected))
    rows = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    return rows


registry = tempfile.mkdtemp(prefix="ab-registry-")
schemas = tempfile.mkdtemp(prefix="ab-schemas-")  # replay writes the Rubin schemas it sends here; the worker reads them
for package in ("models/ztf-bts/2.7.0", "models/lsst-sim/1.1.0", "models/ztf-bts/2.6.0"):
    r = sh(*AB, "models", "push", package, "--registry", registry)
    check(r.returncode == 0, f"models push {package}: {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip()}")
for name in ("ztf-bts@2.7.0", "lsst-sim@1.1.0"):
    r = sh(*AB, "models", "promote", name, "--registry", registry)
    check(r.returncode == 0, f"models promote {name}")

kafka, bootstrap = mockkafka.start(a.alertbroker)
log_path = os.path.join(a.logs, "worker.log")
worker = subprocess.Popen(
    AB + ["run", "--device", a.device, "--in-memory", "--bootstrap-servers", bootstrap, "--topic", "alerts",
          "--output-topic", "out", "--dead-letter-topic", "dead", "--model-registry-dir", registry,
          "--schema-dir", schemas, "--all-alerts", "--http-port", a.http_port],
    stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
try:
    check(wait_for(log_path, r"Partitions assigned", 120), "worker joined its group")
    loaded = re.findall(r"Model (\S+ \S+) loaded \([^)]*\) on ([A-Z]+(?: device \d+)?)", open(log_path).read())
    print("     loaded:", loaded, flush=True)
    want = "CUDA device 0" if a.device == "cuda" else "CPU"
    check(len(loaded) >= 2 and all(p == want for _, p in loaded), f"every model loaded on {want}")

    inputs = [os.path.join(a.samples, "ztf-real-50"), os.path.join(a.samples, "lsst")]
    t0 = time.time()
    r = sh(*AB, "replay", *inputs, "--to-kafka", "--bootstrap-servers", bootstrap, "--topic", "alerts",
           "--write-schemas", schemas)
    m = re.search(r"published ([\d,]+) of", r.stdout + r.stderr)
    sent = int(m.group(1).replace(",", "")) if r.returncode == 0 and m else 0
    check(sent > 0, f"replay --to-kafka: {sent} messages sent")
    first = classifications(bootstrap, sent)
    models = collections.Counter(f'{c.get("survey")}: {c.get("model")}@{c.get("modelVersion")}' for c in first)
    print(f"     {len(first)} classifications in {time.time() - t0:.1f} s: {dict(models)}", flush=True)
    check(len(first) == sent, "one classification per alert")
    check(models["ztf: ztf-bts@2.7.0"] > 0 and models["lsst: lsst-sim@1.1.0"] > 0 and len(models) == 2,
          "ZTF alerts by ztf-bts 2.7.0 and Rubin alerts by lsst-sim 1.1.0")

    r = sh(*AB, "models", "promote", "ztf-bts@2.6.0", "--registry", registry, "--force")
    check(r.returncode == 0, "models promote ztf-bts@2.6.0 while the worker runs")
    check(wait_for(log_path, r"ztf: switched to model ztf-bts@2\.6\.0", 60), "the worker switched to ztf-bts 2.6.0 without a restart")

    r = sh(*AB, "replay", *inputs, "--to-kafka", "--bootstrap-servers", bootstrap, "--topic", "alerts",
           "--write-schemas", schemas)
    both = classifications(bootstrap, 2 * sent)
    models = collections.Counter(f'{c.get("survey")}: {c.get("model")}@{c.get("modelVersion")}' for c in both)
    print(f"     both passes: {len(both)} classifications: {dict(models)}", flush=True)
    ztf = sum(n for m, n in models.items() if m.startswith("ztf:")) // 2
    check(len(both) == 2 * sent and models["ztf: ztf-bts@2.6.0"] == ztf and models["ztf: ztf-bts@2.7.0"] == ztf,
          "the second pass's ZTF alerts are classified by ztf-bts 2.6.0")
    swapped = re.findall(r"Model ztf-bts 2\.6\.0 loaded \([^)]*\) on ([A-Z]+(?: device \d+)?)", open(log_path).read())
    check(bool(swapped) and swapped[-1] == want, f"ztf-bts 2.6.0 loaded on {want}")
    try:
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{a.http_port}/metrics", timeout=5).read().decode()
        received = sum(float(l.split()[-1]) for l in metrics.splitlines() if l.startswith("alertbroker_alerts_received_total"))
        check(received >= 2 * sent, f"/metrics: {received:.0f} alerts received")
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check(False, f"/metrics: {e}")
finally:
    worker.send_signal(signal.SIGTERM)
    try:
        code = worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        code = "killed after 60 s"
    check(code == 0, f"worker exit code {code} after SIGTERM")
    kafka.send_signal(signal.SIGINT)
    try:
        kafka.wait(timeout=20)
    except subprocess.TimeoutExpired:
        kafka.kill()

print("all checks passed" if not failures else f"{len(failures)} check(s) failed", flush=True)
sys.exit(1 if failures else 0)
