# syntax=docker/dockerfile:1
# The AlertBroker worker image (helm/alertbroker runs it). Build from the repository root:
#
#   docker build -t alertbroker:0.1.0 .
#
# Two stages: the .NET 10 SDK publishes a self-contained linux-x64 build; a slim Debian 12 image runs it as an
# unprivileged user. Why these choices: docs/deployment.md, "The container image".

ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
# glibc, not musl: the native libraries (ONNX Runtime's linux-x64 build, librdkafka's centos8 build) need glibc.
# Debian 12 is also the system every test of this repository runs on (eng/setup.sh).
ARG RUNTIME_IMAGE=debian:12-slim

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY schemas/ schemas/
COPY src/ src/
# The same command as in docs/deployment.md (checked by tests/AlertBroker.Deployment.Tests).
RUN --mount=type=cache,id=alertbroker-nuget,target=/root/.nuget/packages \
    dotnet publish src/AlertBroker.Cli/AlertBroker.Cli.csproj -c Release -r linux-x64 --self-contained true -o /app
# An image whose worker would die at its first alert is not an image: the native libraries must be in the output.
RUN set -eu; missing=""; \
    ls /app/libonnxruntime.so* >/dev/null 2>&1 || missing="$missing libonnxruntime.so (NuGet Microsoft.ML.OnnxRuntime)"; \
    ls /app/*librdkafka*.so* >/dev/null 2>&1 || missing="$missing librdkafka.so (NuGet librdkafka.redist)"; \
    if [ -n "$missing" ]; then echo "the publish output lacks:$missing" >&2; exit 1; fi; \
    rm -f /app/*.pdb /app/*.xml

FROM ${RUNTIME_IMAGE} AS runtime
# ca-certificates: TLS to Kafka, Redis and the schema registry with public CAs (pulls in OpenSSL 3, which .NET's
# TLS uses). No ICU: the program runs with invariant globalization.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed, numeric, non-root uid/gid: the chart's podSecurityContext (runAsUser 10001) matches it, and a numeric USER
# lets Kubernetes verify runAsNonRoot.
RUN groupadd --system --gid 10001 alertbroker \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin alertbroker
COPY --from=build /app /app
# The shipped models, baked in: config AlertBroker:Model:Path=/app/models/<name>/<version>. Or follow the model
# registry instead (AlertBroker:Model:RegistryRedis), or mount packages from a volume.
COPY models/ /app/models/
WORKDIR /app
ENV DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
USER 10001:10001
# /healthz, /readyz, /metrics (AlertBroker:Telemetry:HttpPort; bind 0.0.0.0 with AlertBroker__Telemetry__HttpAddress).
EXPOSE 9464
ENTRYPOINT ["/app/alertbroker"]
CMD ["run"]
