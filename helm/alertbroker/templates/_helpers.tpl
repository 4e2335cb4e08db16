{{/* Names and labels. */}}
{{- define "alertbroker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "alertbroker.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The metrics Service's name, a DNS-1035 label: at most 63 characters, lower-case letters, digits and '-', starting with a
letter. It was "<fullname>-metrics": up to 71 characters, and refused by Kubernetes for a release named "1ab" (a digit
first) or "ab.prod" (a dot), though every other object took those names.
*/}}
{{- define "alertbroker.metricsServiceName" -}}
{{- $base := include "alertbroker.fullname" . | replace "." "-" -}}
{{- if not (regexMatch "^[a-z]" $base) -}}
{{- $base = printf "ab-%s" $base -}}
{{- end -}}
{{- printf "%s-metrics" ($base | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{- define "alertbroker.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "alertbroker.labels" -}}
helm.sh/chart: {{ include "alertbroker.chart" . }}
app.kubernetes.io/name: {{ include "alertbroker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: alertbroker
{{- end -}}

{{/* The workers (not the promote Job): what the Service, the PDB and the NetworkPolicy select. */}}
{{- define "alertbroker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "alertbroker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "alertbroker.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "alertbroker.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "alertbroker.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* Redis endpoints: a string, or a list of host:port joined with commas (Redis Cluster seed nodes). */}}
{{- define "alertbroker.endpoints" -}}
{{- if kindIs "slice" . -}}
{{- $parts := list -}}
{{- range . -}}
{{- if trim (toString (. | default "")) -}}
{{- $parts = append $parts (trim (toString .)) -}}
{{- end -}}
{{- end -}}
{{- join "," $parts -}}
{{- else -}}
{{- . | default "" | toString | trim -}}
{{- end -}}
{{- end -}}

{{/* Where TLS material from Secrets is mounted, and the fixed file names inside. */}}
{{- define "alertbroker.kafkaTlsDir" -}}/etc/alertbroker/tls/kafka{{- end -}}
{{- define "alertbroker.redisTlsDir" -}}/etc/alertbroker/tls/redis{{- end -}}
{{- define "alertbroker.configDir" -}}/etc/alertbroker/config{{- end -}}
{{- define "alertbroker.configFile" -}}{{ include "alertbroker.configDir" . }}/alertbroker.json{{- end -}}

{{- define "alertbroker.kafkaUsesSasl" -}}
{{- if has .Values.security.kafka.securityProtocol (list "SaslPlaintext" "SaslSsl") -}}true{{- end -}}
{{- end -}}

{{- define "alertbroker.kafkaUsesTls" -}}
{{- if has .Values.security.kafka.securityProtocol (list "Ssl" "SaslSsl") -}}true{{- end -}}
{{- end -}}

{{/*
The worker's configuration file (the shape of appsettings.json), read with `alertbroker run --config`. Empty strings
and empty lists are left out so that the worker's defaults apply; numbers and booleans are always written.
Telemetry:HttpPort comes from metrics.port; the host's shutdownTimeoutSeconds from drain.timeoutSeconds.
*/}}
{{- define "alertbroker.appConfig" -}}
{{- $ab := dict -}}
{{- range $section, $settings := .Values.config -}}
{{- $out := dict -}}
{{- range $key, $value := $settings -}}
{{- /* Metadata:Redis was written as given: a list of seed nodes became a JSON array, which the worker cannot bind. */ -}}
{{- if or (and (eq $section "State") (eq $key "Redis")) (and (eq $section "Model") (eq $key "RegistryRedis")) (and (eq $section "Metadata") (eq $key "Redis")) -}}
{{- $value = include "alertbroker.endpoints" $value -}}
{{- end -}}
{{- if and (eq $section "Kafka") (eq $key "Properties") -}}
{{- $strings := dict -}}
{{- range $name, $setting := $value -}}
{{- /* A whole number from a values file is a float64, which toString wrote as 5.24288e+07 from a million up: librdkafka
     read the digits before the '.' (fetch.max.bytes 5, message.max.bytes 1: refused, the worker stopped). */ -}}
{{- if and (kindIs "float64" $setting) (eq (float64 (int64 $setting)) $setting) -}}
{{- $_ := set $strings $name (toString (int64 $setting)) -}}
{{- else -}}
{{- $_ := set $strings $name (toString $setting) -}}
{{- end -}}
{{- end -}}
{{- $value = $strings -}}
{{- end -}}
{{- if or (kindIs "bool" $value) (kindIs "float64" $value) (kindIs "int64" $value) (kindIs "int" $value) -}}
{{- $_ := set $out $key $value -}}
{{- else if not (empty $value) -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- if $out -}}
{{- $_ := set $ab $section $out -}}
{{- end -}}
{{- end -}}
{{- $telemetry := get $ab "Telemetry" | default dict -}}
{{- $_ := set $telemetry "HttpPort" .Values.metrics.port -}}
{{- $_ := set $ab "Telemetry" $telemetry -}}
{{- $root := dict "AlertBroker" $ab "Logging" (dict "LogLevel" (dict "Default" .Values.logLevel "Microsoft.Hosting.Lifetime" "Warning" "Microsoft.AspNetCore" "Warning")) "shutdownTimeoutSeconds" .Values.drain.timeoutSeconds -}}
{{- toPrettyJson $root -}}
{{- end -}}

{{/* Environment from Secrets (and the TLS file paths) for Kafka. Never a plain value for a credential. */}}
{{- define "alertbroker.env.kafka" -}}
{{- $k := .Values.security.kafka -}}
- name: AlertBroker__Kafka__SecurityProtocol
  value: {{ $k.securityProtocol | quote }}
{{- if include "alertbroker.kafkaUsesSasl" . }}
- name: AlertBroker__Kafka__SaslMechanism
  value: {{ $k.sasl.mechanism | quote }}
- name: AlertBroker__Kafka__SaslUsername
  valueFrom:
    secretKeyRef:
      name: {{ $k.sasl.existingSecret }}
      key: {{ $k.sasl.usernameKey }}
- name: AlertBroker__Kafka__SaslPassword
  valueFrom:
    secretKeyRef:
      name: {{ $k.sasl.existingSecret }}
      key: {{ $k.sasl.passwordKey }}
{{- end }}
{{- if and (include "alertbroker.kafkaUsesTls" .) $k.tls.existingSecret }}
{{- if $k.tls.caKey }}
- name: AlertBroker__Kafka__SslCaLocation
  value: {{ include "alertbroker.kafkaTlsDir" . }}/ca.crt
{{- end }}
{{- if $k.tls.certificateKey }}
- name: AlertBroker__Kafka__SslCertificateLocation
  value: {{ include "alertbroker.kafkaTlsDir" . }}/tls.crt
- name: AlertBroker__Kafka__SslKeyLocation
  value: {{ include "alertbroker.kafkaTlsDir" . }}/tls.key
{{- end }}
{{- if $k.tls.keyPasswordKey }}
- name: AlertBroker__Kafka__SslKeyPassword
  valueFrom:
    secretKeyRef:
      name: {{ $k.tls.existingSecret }}
      key: {{ $k.tls.keyPasswordKey }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment for Redis (state and model registry share it): ACL user, password, TLS. */}}
{{- define "alertbroker.env.redis" -}}
{{- $r := .Values.security.redis -}}
{{- if $r.auth.existingSecret }}
{{- if $r.auth.userKey }}
- name: AlertBroker__Redis__User
  valueFrom:
    secretKeyRef:
      name: {{ $r.auth.existingSecret }}
      key: {{ $r.auth.userKey }}
{{- end }}
- name: AlertBroker__Redis__Password
  valueFrom:
    secretKeyRef:
      name: {{ $r.auth.existingSecret }}
      key: {{ $r.auth.passwordKey }}
{{- end }}
{{- if $r.tls.enabled }}
- name: AlertBroker__Redis__Tls
  value: "true"
{{- if $r.tls.existingSecret }}
{{- if $r.tls.caKey }}
- name: AlertBroker__Redis__TlsCaFile
  value: {{ include "alertbroker.redisTlsDir" . }}/ca.crt
{{- end }}
{{- if $r.tls.certificateKey }}
- name: AlertBroker__Redis__TlsCertificateFile
  value: {{ include "alertbroker.redisTlsDir" . }}/tls.crt
- name: AlertBroker__Redis__TlsKeyFile
  value: {{ include "alertbroker.redisTlsDir" . }}/tls.key
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "alertbroker.env.schemaRegistry" -}}
{{- $s := .Values.security.schemaRegistry -}}
{{- if $s.auth.existingSecret }}
- name: AlertBroker__Schemas__RegistryUsername
  valueFrom:
    secretKeyRef:
      name: {{ $s.auth.existingSecret }}
      key: {{ $s.auth.usernameKey }}
- name: AlertBroker__Schemas__RegistryPassword
  valueFrom:
    secretKeyRef:
      name: {{ $s.auth.existingSecret }}
      key: {{ $s.auth.passwordKey }}
{{- end }}
{{- end -}}

{{/* Volumes for TLS material: each Secret key mapped to a fixed file name, readable by the pod's group only. */}}
{{- define "alertbroker.kafkaTlsVolume" -}}
{{- $k := .Values.security.kafka.tls -}}
{{- if and (include "alertbroker.kafkaUsesTls" .) $k.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ $k.existingSecret }}
    defaultMode: 0440
    items:
      {{- if $k.caKey }}
      - key: {{ $k.caKey }}
        path: ca.crt
      {{- end }}
      {{- if $k.certificateKey }}
      - key: {{ $k.certificateKey }}
        path: tls.crt
      - key: {{ $k.keyKey }}
        path: tls.key
      {{- end }}
{{- end }}
{{- end -}}

{{- define "alertbroker.redisTlsVolume" -}}
{{- $r := .Values.security.redis.tls -}}
{{- if and $r.enabled $r.existingSecret }}
- name: redis-tls
  secret:
    secretName: {{ $r.existingSecret }}
    defaultMode: 0440
    items:
      {{- if $r.caKey }}
      - key: {{ $r.caKey }}
        path: ca.crt
      {{- end }}
      {{- if $r.certificateKey }}
      - key: {{ $r.certificateKey }}
        path: tls.crt
      - key: {{ $r.keyKey }}
        path: tls.key
      {{- end }}
{{- end }}
{{- end -}}

{{- define "alertbroker.kafkaTlsVolumeMount" -}}
{{- if and (include "alertbroker.kafkaUsesTls" .) .Values.security.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: {{ include "alertbroker.kafkaTlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "alertbroker.redisTlsVolumeMount" -}}
{{- if and .Values.security.redis.tls.enabled .Values.security.redis.tls.existingSecret }}
- name: redis-tls
  mountPath: {{ include "alertbroker.redisTlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* KEDA's names for the SASL mechanisms. */}}
{{- define "alertbroker.kedaSasl" -}}
{{- get (dict "Plain" "plaintext" "ScramSha256" "scram_sha256" "ScramSha512" "scram_sha512") .Values.security.kafka.sasl.mechanism -}}
{{- end -}}

{{/* The topic whose lag KEDA reads: explicit, else the only input topic, else none (all the group's topics). */}}
{{- define "alertbroker.kedaTopic" -}}
{{- if .Values.autoscaling.keda.topic -}}
{{- .Values.autoscaling.keda.topic -}}
{{- else if and (eq (len (.Values.config.Kafka.Topics | default list)) 1) (not .Values.config.Kafka.TopicPattern) -}}
{{- first .Values.config.Kafka.Topics -}}
{{- end -}}
{{- end -}}

{{/*
What in a value looks like a credential, in words that do not repeat it (helm prints the error; CI logs keep it); empty
when nothing does. User info in a URL (scheme://user:password@host), an Authorization header's scheme and credential
(Bearer …, Basic …), and a key=value pair whose key names a secret, at the start or after a space, '?', '&', '#', ';' or
',' (a URL's query, a connection string, OTLP headers) or as a JSON member. Short words (key, pwd, sig, auth, pass)
count alone or after '_', '.' or '-' only, so that "monkey=" or "host:port" pass. A Kubernetes reference to another
variable, $(NAME), is no credential: "redis://:$(REDIS_PASSWORD)@redis:6379" or "password=$(PW)" compose a value from
one that comes from a Secret.
*/}}
{{- define "alertbroker.credentialHint" -}}
{{- $v := toString . -}}
{{- $ref := "\\$\\([A-Za-z_][A-Za-z0-9_]*\\)" -}}
{{- $secretKey := "(?i)((password|passwd|secret|token|apikey|accesskey|accountkey|credentials?|signature|authorization)|(^|[_.-])(pass|pwd|key|sig|auth))$" -}}
{{- $found := "" -}}
{{- range $userinfo := regexFindAll "(?i)[a-z][a-z0-9+.-]*://[^/?#@\\s]*@" $v -1 -}}
{{- $userinfo = regexReplaceAll "^[^:]*://(.*)@$" $userinfo "${1}" -}}
{{- /* The password, or a user name alone (a token given as the user, https://TOKEN@host). */ -}}
{{- $secret := ternary (regexReplaceAll "^[^:]*:" $userinfo "") $userinfo (contains ":" $userinfo) -}}
{{- if regexReplaceAll $ref $secret "" -}}
{{- $found = "user info in a URL, scheme://user:password@host" -}}
{{- break -}}
{{- end -}}
{{- end -}}
{{- if $found -}}
{{- else if regexMatch "(?i)(^|[^a-z0-9])(bearer|basic)\\s+[a-z0-9._~+/-]{6,}" $v -}}
{{- $found = "an Authorization header's credential, Bearer or Basic" -}}
{{- else -}}
{{- range $pair := concat (regexFindAll "(^|[\\s?&#;,])[A-Za-z0-9_.-]+\\s*=\\s*[^\\s&#;,]+" $v -1) (regexFindAll "\"[A-Za-z0-9_.-]+\"\\s*:\\s*\"[^\"]+" $v -1) -}}
{{- $key := regexReplaceAll "^[\\s?&#;,\"]*([A-Za-z0-9_.-]+)[\\s\"]*[=:].*$" $pair "${1}" -}}
{{- $value := regexReplaceAll "^[^=:]*[=:][\\s\"]*" $pair "" -}}
{{- if and (regexMatch $secretKey $key) (regexReplaceAll $ref $value "") -}}
{{- $found = printf "a value for the key '%s'" $key -}}
{{- break -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $found -}}
{{- end -}}

{{/*
Every key of `config` (values.schema.json, which allows no other), by section: what extraEnv may not set, whether the
value is set, empty or null (Helm drops a null key from .Values, so they cannot be read from there). A test keeps this
list equal to the schema's.
*/}}
{{- define "alertbroker.configKeys" -}}
Kafka: [BootstrapServers, GroupId, Topics, TopicPattern, OutputTopic, DeadLetterTopic, ShadowTopic, BatchSize, BatchTimeoutMs, AutoOffsetReset, CommitIntervalMs, DeadLetterMaxBytes, StartTimeoutMs, Properties]
Schemas: [RegistryUrl, SchemaDirectory]
State: [Store, Redis, KeyPrefix, TtlHours, RetryInitialMs, RetryMaxMs, MaxObservationsPerObject]
Alerts: [ZtfMinMjd, ZtfMaxMjd, LsstMinMjd, LsstMaxMjd, MaxObservationsPerAlert, MaxInflatedBytes]
Model: [Path, Paths, RegistryRedis, RegistryDirectory, SearchDirectory, RegistryPrefix, RegistryPollSeconds, AllowRandom, ExecutionProvider, CudaDeviceId]
Metadata: [Redis, Sources]
Candidates: [Enabled, ZtfMinRealBogus, LsstMinReliability, RequirePositiveFlux, SolarSystemRadiusArcsec, StarRadiusArcsec, MinStarScore, MinDetections]
Telemetry: [OtlpEndpoint, AllowedHosts]
Web: [Enabled, RecentClassifications, ModelDirectory, RefreshSeconds, MaxStreamClients]
{{- end -}}

{{/*
Checks that JSON Schema cannot express (relations between values). Each failure names the value to change, and
the chart renders nothing: a worker that would only crash-loop is not installed.
*/}}
{{- define "alertbroker.validate" -}}
{{- $c := .Values.config -}}
{{- $errors := list -}}
{{- if not (trim (toString $c.Kafka.BootstrapServers)) -}}
{{- $errors = append $errors "config.Kafka.BootstrapServers is required (the brokers, host:port[,host:port])" -}}
{{- end -}}
{{- /* The worker's own check of the list (KafkaBootstrapServers.Problem): "a:9092,,b:9092", ":9092", "host:" or a trailing
     comma were rendered, and the worker stopped at start (exit 2). Entries are trimmed; a security-protocol prefix
     (SASL_SSL://), a host without a port, [IPv6]:port and a bare IPv6 address are accepted, as there. */ -}}
{{- $servers := toString ($c.Kafka.BootstrapServers | default "") -}}
{{- if trim $servers -}}
{{- range $raw := splitList "," $servers -}}
{{- $entry := trim $raw -}}
{{- $problem := "" -}}
{{- $host := "" -}}
{{- $port := "" -}}
{{- $address := regexReplaceAll "^.*?://" $entry "" -}}
{{- if not $entry -}}
{{- $problem = printf "'%s' has an empty entry (host:port entries are separated by single commas)" $servers -}}
{{- else if regexMatch "[\\p{Z}\\p{Cc}]" $entry -}}
{{- $problem = printf "'%s' holds a space (host:port entries are separated by commas)" $entry -}}
{{- else if hasPrefix "[" $address -}}
{{- $parts := regexFindAll "^\\[([^\\]]*)\\](.*)$" $address 1 -}}
{{- if not $parts -}}
{{- $problem = printf "'%s' opens '[' for an IPv6 address and does not close it" $entry -}}
{{- else -}}
{{- $host = regexReplaceAll "^\\[([^\\]]*)\\](.*)$" $address "${1}" -}}
{{- $rest := regexReplaceAll "^\\[([^\\]]*)\\](.*)$" $address "${2}" -}}
{{- if and $rest (not (hasPrefix ":" $rest)) -}}
{{- $problem = printf "'%s' has '%s' after its IPv6 address, where ':port' or nothing goes" $entry $rest -}}
{{- else if $rest -}}
{{- $port = printf "p%s" (trimPrefix ":" $rest) -}}
{{- end -}}
{{- end -}}
{{- else if gt (len (splitList ":" $address)) 2 -}}
{{- $host = $address -}}
{{- else if contains ":" $address -}}
{{- $host = regexReplaceAll ":.*$" $address "" -}}
{{- $port = printf "p%s" (regexReplaceAll "^[^:]*:" $address "") -}}
{{- else -}}
{{- $host = $address -}}
{{- end -}}
{{- if and (not $problem) (not $host) -}}
{{- $problem = printf "'%s' has no host (host:port)" $entry -}}
{{- end -}}
{{- /* $port is "p" + the port text when there is one (an empty port text is an error, no port is not). */ -}}
{{- $p := trimPrefix "p" $port -}}
{{- if and (not $problem) $port (not (and (regexMatch "^[0-9]+$" $p) (ge (atoi $p) 1) (le (atoi $p) 65535))) -}}
{{- $problem = printf "'%s' has the port '%s'; a port is a number from 1 to 65535" $entry $p -}}
{{- end -}}
{{- if $problem -}}
{{- $errors = append $errors (printf "config.Kafka.BootstrapServers is not a list of host:port: %s" $problem) -}}
{{- break -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* Pass-through settings that a typed key owns: the worker stops at start when they differ from it, and where they
     agree they are a second place to change. They were rendered. */ -}}
{{- $owned := dict "bootstrap.servers" "BootstrapServers" "metadata.broker.list" "BootstrapServers" "group.id" "GroupId" -}}
{{- range $name, $_ := ($c.Kafka.Properties | default dict) -}}
{{- if hasKey $owned $name -}}
{{- $errors = append $errors (printf "config.Kafka.Properties.%s: set config.Kafka.%s instead (one place only; the worker refuses a second, different value at start)" $name (get $owned $name)) -}}
{{- end -}}
{{- end -}}
{{- /* A static member id in Properties is every replica's: a second member with it fences the first (librdkafka's fatal
     error, exit 70), so more than one worker at a time, or a rollout that starts the new pod before the old one stops,
     only crash-loops. It was rendered. */ -}}
{{- $ru := .Values.updateStrategy.rollingUpdate | default dict -}}
{{- $several := ternary (gt (int .Values.autoscaling.maxReplicas) 1) (gt (int .Values.replicaCount) 1) (ne .Values.autoscaling.mode "none") -}}
{{- $surge := and (eq .Values.updateStrategy.type "RollingUpdate") (not (regexMatch "^0+%?$" (toString (get $ru "maxSurge" | default 0)))) -}}
{{- if hasKey ($c.Kafka.Properties | default dict) "group.instance.id" -}}
{{- if or $several $surge -}}
{{- $errors = append $errors "config.Kafka.Properties.group.instance.id is shared by every worker: with more than one (replicaCount, autoscaling.maxReplicas) or a surge pod (updateStrategy.rollingUpdate.maxSurge) a second member with that id fences the first, which stops (exit 70). A static member needs an id of its own per pod that survives the pod's restart (docs/operations.md, \"Static membership\")" -}}
{{- end -}}
{{- end -}}
{{- if and (empty $c.Kafka.Topics) (not $c.Kafka.TopicPattern) -}}
{{- $errors = append $errors "set config.Kafka.Topics (a list) or config.Kafka.TopicPattern (a regular expression starting with ^)" -}}
{{- end -}}
{{- /* A null output topic (Helm drops the key, the schema never sees it) was left out of the file, to the worker's built-in
     default, beyond the checks below. Until 2026-12-07 one was rendered, and two were refused as "both '%!s(<nil>)'". The
     worker needs all three (an empty one "must be set"), and the chart's defaults give them. */ -}}
{{- $outputs := list -}}
{{- range $o := list (list "OutputTopic" $c.Kafka.OutputTopic "its classifications") (list "DeadLetterTopic" $c.Kafka.DeadLetterTopic "the alerts it cannot process") (list "ShadowTopic" $c.Kafka.ShadowTopic "the classifications of shadow models") -}}
{{- if trim (toString ((index $o 1) | default "")) -}}
{{- $outputs = append $outputs $o -}}
{{- else -}}
{{- $errors = append $errors (printf "config.Kafka.%s must be set: the topic the worker writes %s to (a null one is left out of the configuration file, to the worker's built-in default, where the chart's checks of the output topics against the input topics and each other do not reach it)" (index $o 0) (index $o 2)) -}}
{{- end -}}
{{- end -}}
{{- range $i, $o := $outputs -}}
{{- if has (index $o 1) ($c.Kafka.Topics | default list) -}}
{{- $errors = append $errors (printf "config.Kafka.%s '%s' is also an input topic (config.Kafka.Topics): the worker would read back what it writes, without end" (index $o 0) (index $o 1)) -}}
{{- else if and $c.Kafka.TopicPattern (index $o 1) (regexMatch (toString $c.Kafka.TopicPattern) (toString (index $o 1))) -}}
{{- /* Go's RE2 and the worker's check agree on what the schema lets through (POSIX extended syntax without \d or (?...));
       a backreference or \< \>, which RE2 lacks, never matches here and is left to the worker's own check at start. */ -}}
{{- $errors = append $errors (printf "config.Kafka.%s '%s' matches config.Kafka.TopicPattern '%s': the worker would read back what it writes, without end; choose another topic or a narrower pattern" (index $o 0) (index $o 1) $c.Kafka.TopicPattern) -}}
{{- end -}}
{{- range $j, $other := $outputs -}}
{{- if and (lt $i $j) (eq (index $o 1) (index $other 1)) -}}
{{- $errors = append $errors (printf "config.Kafka.%s and %s are both '%s': give each its own topic" (index $o 0) (index $other 0) (index $o 1)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (eq $c.State.Store "Redis") (not (include "alertbroker.endpoints" $c.State.Redis)) -}}
{{- $errors = append $errors "config.State.Redis is required when config.State.Store is Redis" -}}
{{- end -}}
{{- if and (eq $c.State.Store "InMemory") (or (ne .Values.autoscaling.mode "none") (gt (int .Values.replicaCount) 1)) -}}
{{- $errors = append $errors "config.State.Store InMemory keeps state inside one process: use it with replicaCount 1 and autoscaling.mode none only" -}}
{{- end -}}
{{- /* Paths and SearchDirectory are the worker's too (Paths without Path; SearchDirectory with no Path, Paths or registry):
     either alone was refused here, so neither could be used. */ -}}
{{- $paths := list -}}
{{- range ($c.Model.Paths | default list) -}}
{{- if trim (toString .) -}}
{{- $paths = append $paths . -}}
{{- end -}}
{{- end -}}
{{- if not (or (trim (toString ($c.Model.Path | default ""))) $paths (trim (toString ($c.Model.SearchDirectory | default ""))) (include "alertbroker.endpoints" $c.Model.RegistryRedis) $c.Model.RegistryDirectory $c.Model.AllowRandom) -}}
{{- $errors = append $errors "set config.Model.Path (a model in the image or a volume), config.Model.Paths (several packages), config.Model.SearchDirectory (the newest package per survey under it) or config.Model.RegistryRedis (follow the model registry)" -}}
{{- else if and (trim (toString ($c.Model.SearchDirectory | default ""))) (or (trim (toString ($c.Model.Path | default ""))) $paths (include "alertbroker.endpoints" $c.Model.RegistryRedis) $c.Model.RegistryDirectory) -}}
{{- $errors = append $errors "config.Model.SearchDirectory is used only without config.Model.Path, Paths and a registry, and one of those is set (the worker would ignore it): set config.Model.Path to \"\" (the default names the image's model) to search the directory" -}}
{{- end -}}
{{- if eq (toString $c.Model.ExecutionProvider) "Cuda" -}}
{{- $gpus := get (.Values.resources.limits | default dict) "nvidia.com/gpu" -}}
{{- if not (and $gpus (gt (float64 $gpus) 0.0)) -}}
{{- $errors = append $errors "config.Model.ExecutionProvider Cuda needs a GPU: set resources.limits.\"nvidia.com/gpu\" (1); without it the pods land on nodes without a GPU and the worker stops at start (it never falls back to the CPU)" -}}
{{- end -}}
{{- end -}}
{{- /* config.Metadata.Redis was not checked: "meta:6379,password=…" went into the ConfigMap as written. */ -}}
{{- range $key, $value := dict "config.State.Redis" $c.State.Redis "config.Model.RegistryRedis" $c.Model.RegistryRedis "config.Metadata.Redis" $c.Metadata.Redis -}}
{{- if regexMatch "(?i)(password|user|pwd)\\s*=" (include "alertbroker.endpoints" $value) -}}
{{- $errors = append $errors (printf "%s must name endpoints only: credentials in it would land in a ConfigMap; use security.redis.auth.existingSecret" $key) -}}
{{- end -}}
{{- end -}}
{{- /* The URL-valued keys go into the ConfigMap (the runbook link into the PrometheusRule, and every alert's notification).
     The schema refuses user info in the two of config; until 2026-12-07 a credential in the query
     (http://collector:4317/?api_key=…) was rendered. */ -}}
{{- $urls := list (list "config.Telemetry.OtlpEndpoint" $c.Telemetry.OtlpEndpoint "a collector's credentials go in extraEnv as OTEL_EXPORTER_OTLP_HEADERS, valueFrom a Secret") (list "config.Schemas.RegistryUrl" $c.Schemas.RegistryUrl "the registry's credentials come from security.schemaRegistry.auth.existingSecret") (list "metrics.prometheusRule.runbookUrl" .Values.metrics.prometheusRule.runbookUrl "link to a page that needs no credential in its address") -}}
{{- range $u := $urls -}}
{{- with include "alertbroker.credentialHint" (index $u 1) -}}
{{- $errors = append $errors (printf "%s holds what looks like a credential (%s), which would be in the %s for anyone who may read it: %s" (index $u 0) . (ternary "PrometheusRule" "ConfigMap" (hasPrefix "metrics." (index $u 0))) (index $u 2)) -}}
{{- end -}}
{{- end -}}
{{- range $survey := list "Ztf" "Lsst" -}}
{{- $min := get $c.Alerts (printf "%sMinMjd" $survey) -}}
{{- $max := get $c.Alerts (printf "%sMaxMjd" $survey) -}}
{{- if not (lt (float64 $min) (float64 $max)) -}}
{{- $errors = append $errors (printf "config.Alerts.%sMinMjd (%v) must be below %sMaxMjd (%v): the worker refuses an empty time window" $survey $min $survey $max) -}}
{{- end -}}
{{- end -}}
{{- if gt (int $c.State.RetryInitialMs) (int $c.State.RetryMaxMs) -}}
{{- $errors = append $errors (printf "config.State.RetryInitialMs (%v) must not be above RetryMaxMs (%v)" $c.State.RetryInitialMs $c.State.RetryMaxMs) -}}
{{- end -}}
{{- range $survey, $sources := $c.Metadata.Sources -}}
{{- range $source, $s := $sources -}}
{{- if eq (empty $s.Csv) (empty $s.RedisHash) -}}
{{- $errors = append $errors (printf "config.Metadata.Sources.%s.%s: set exactly one of Csv (a file in the pod) or RedisHash (a key)" $survey $source) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $c.Schemas.RegistryUrl $c.Schemas.SchemaDirectory -}}
{{- $errors = append $errors "config.Schemas: set RegistryUrl or SchemaDirectory, not both (two sources of schemas; the worker refuses them together)" -}}
{{- end -}}
{{- if and .Values.security.schemaRegistry.auth.existingSecret (not $c.Schemas.RegistryUrl) -}}
{{- $errors = append $errors "security.schemaRegistry.auth.existingSecret is set without config.Schemas.RegistryUrl (credentials for no registry; the worker refuses them)" -}}
{{- end -}}
{{- $k := .Values.security.kafka -}}
{{- if and (include "alertbroker.kafkaUsesSasl" .) (not $k.sasl.existingSecret) -}}
{{- $errors = append $errors (printf "security.kafka.sasl.existingSecret is required with securityProtocol %s (a Secret with keys %s and %s)" $k.securityProtocol $k.sasl.usernameKey $k.sasl.passwordKey) -}}
{{- end -}}
{{- if and $k.tls.existingSecret (not (include "alertbroker.kafkaUsesTls" .)) -}}
{{- $errors = append $errors (printf "security.kafka.tls.existingSecret is set but securityProtocol %s does not use TLS: choose Ssl or SaslSsl" $k.securityProtocol) -}}
{{- end -}}
{{- if ne (empty $k.tls.certificateKey) (empty $k.tls.keyKey) -}}
{{- $errors = append $errors "security.kafka.tls: set certificateKey and keyKey together (mutual TLS) or neither" -}}
{{- end -}}
{{- if and (or $k.tls.certificateKey $k.tls.keyPasswordKey) (not $k.tls.existingSecret) -}}
{{- $errors = append $errors "security.kafka.tls.existingSecret is required when certificateKey or keyPasswordKey is set" -}}
{{- end -}}
{{- $r := .Values.security.redis -}}
{{- if and $r.tls.existingSecret (not $r.tls.enabled) -}}
{{- $errors = append $errors "security.redis.tls.existingSecret is set but security.redis.tls.enabled is false" -}}
{{- end -}}
{{- if ne (empty $r.tls.certificateKey) (empty $r.tls.keyKey) -}}
{{- $errors = append $errors "security.redis.tls: set certificateKey and keyKey together (mutual TLS) or neither" -}}
{{- end -}}
{{- if and $r.tls.certificateKey (not $r.tls.existingSecret) -}}
{{- $errors = append $errors "security.redis.tls.existingSecret is required when certificateKey is set" -}}
{{- end -}}
{{- if and $r.auth.userKey (not $r.auth.existingSecret) -}}
{{- $errors = append $errors "security.redis.auth.existingSecret is required when userKey is set" -}}
{{- end -}}
{{- $needed := add .Values.drain.timeoutSeconds .Values.drain.preStopSleepSeconds 5 -}}
{{- if lt (int .Values.terminationGracePeriodSeconds) (int $needed) -}}
{{- $errors = append $errors (printf "terminationGracePeriodSeconds (%v) must be at least drain.timeoutSeconds + drain.preStopSleepSeconds + 5 = %v, or Kubernetes kills the worker in the middle of its drain" .Values.terminationGracePeriodSeconds $needed) -}}
{{- end -}}
{{- $a := .Values.autoscaling -}}
{{- if and (ne $a.mode "none") (gt (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- $errors = append $errors "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" -}}
{{- end -}}
{{- if and (eq $a.mode "hpa") (lt (int $a.minReplicas) 1) -}}
{{- $errors = append $errors "autoscaling.minReplicas must be at least 1 with mode hpa (scaling to zero needs mode keda)" -}}
{{- end -}}
{{- /* KEDA's Kafka scaler without a topic sums the lag of the topics the group has committed offsets for (those it
     subscribes to as well only while a member is active), so at zero workers a group that never committed, whose offsets
     expired (offsets.retention.minutes, 7 days by default), or whose pattern matches a new topic shows no lag and the
     workers never start: KEDA's documentation names this edge case and its fixes (minReplicaCount above 0, or a topic).
     Until 2026-12-07 it was rendered, with config.Kafka.TopicPattern or more than one input topic. */ -}}
{{- if and (eq $a.mode "keda") (lt (int $a.minReplicas) 1) (not (include "alertbroker.kedaTopic" .)) -}}
{{- $errors = append $errors (printf "autoscaling.mode keda with autoscaling.minReplicas 0 needs autoscaling.keda.topic here (%s, so KEDA is given no topic): without one KEDA reads the lag only of the topics the consumer group has committed offsets for, and at zero workers a group that never committed, whose offsets expired or whose pattern matches a new topic shows no lag, so the workers would never start; set autoscaling.keda.topic (the input topic whose lag wakes and scales them) or autoscaling.minReplicas 1" (ternary "config.Kafka.TopicPattern is set" "config.Kafka.Topics has more than one topic" (not (empty $c.Kafka.TopicPattern)))) -}}
{{- end -}}
{{- /* A topic the group never reads has no committed offset: KEDA counts its whole log as lag (offsetResetPolicy earliest,
     the default), which only grows, and keeps maxReplicas workers running, or none (latest). Until 2026-12-07 any name
     was rendered. A pattern with what RE2 lacks (a backreference, \< \>) is left alone, as for the output topics
     above. */ -}}
{{- if and (eq $a.mode "keda") $a.keda.topic -}}
{{- $topic := toString $a.keda.topic -}}
{{- $pattern := toString ($c.Kafka.TopicPattern | default "") -}}
{{- $read := or (has $topic ($c.Kafka.Topics | default list)) (and $pattern (or (regexMatch "\\\\[1-9<>]" $pattern) (regexMatch $pattern $topic))) -}}
{{- if not $read -}}
{{- $inputs := list -}}
{{- with $c.Kafka.Topics -}}
{{- $inputs = append $inputs (printf "is not in config.Kafka.Topics [%s]" (join ", " .)) -}}
{{- end -}}
{{- with $pattern -}}
{{- $inputs = append $inputs (printf "does not match config.Kafka.TopicPattern '%s'" .) -}}
{{- end -}}
{{- $errors = append $errors (printf "autoscaling.keda.topic '%s' %s: the workers never read it or commit an offset there, so KEDA would scale on a lag that is not theirs (with AutoOffsetReset earliest the whole topic, which only grows: autoscaling.maxReplicas workers for ever; with latest none); name an input topic" $topic (join " and " $inputs)) -}}
{{- end -}}
{{- end -}}
{{- if and (eq $a.mode "hpa") (not (dig "requests" "cpu" "" .Values.resources)) -}}
{{- $errors = append $errors "autoscaling.mode hpa scales on CPU utilisation, which needs resources.requests.cpu" -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (eq (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable) (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) -}}
{{- $errors = append $errors "podDisruptionBudget: set exactly one of maxUnavailable and minAvailable (the other null)" -}}
{{- end -}}
{{- /* A budget that no eviction can fit blocks every node drain (kubectl drain waits for ever): maxUnavailable 0, minAvailable
     100%, or minAvailable as many as the fewest workers that run. It was rendered. Until 2026-12-07 minAvailable was
     checked against replicaCount only: with autoscaling (hpa or keda) a budget of autoscaling.minReplicas or more passed,
     and blocked every drain while the autoscaler kept that few workers. A budget is tested at the fewest workers that run
     at once: replicaCount without autoscaling (0: nothing to protect), autoscaling.minReplicas with it, and 1 when KEDA
     may scale to zero (at zero there is no worker to evict, but KEDA wakes one first and one runs while the lag is small).
     Kubernetes rounds a percentage up (60% of 2 workers is 2); below 100% it leaves no worker to evict only among few
     workers, so the fewest is the case to test. */ -}}
{{- $pdb := .Values.podDisruptionBudget -}}
{{- if $pdb.enabled -}}
{{- $autoscaled := ne .Values.autoscaling.mode "none" -}}
{{- $fewest := ternary (max 1 (int .Values.autoscaling.minReplicas)) (int .Values.replicaCount) $autoscaled -}}
{{- $blocks := false -}}
{{- $percent := "" -}}
{{- if and (not (kindIs "invalid" $pdb.maxUnavailable)) (regexMatch "^0+%?$" (toString $pdb.maxUnavailable)) -}}
{{- $errors = append $errors (printf "podDisruptionBudget.maxUnavailable %v lets no worker be evicted, so every node drain would wait for ever: use 1 (or disable the budget)" $pdb.maxUnavailable) -}}
{{- else if kindIs "string" $pdb.minAvailable -}}
{{- $p := atoi (trimSuffix "%" $pdb.minAvailable) -}}
{{- $percent = " (Kubernetes rounds the percentage up)" -}}
{{- if ge $p 100 -}}
{{- $errors = append $errors (printf "podDisruptionBudget.minAvailable %s leaves no worker to evict%s, so every node drain would wait for ever: use maxUnavailable 1" $pdb.minAvailable $percent) -}}
{{- else -}}
{{- $blocks = and (gt $fewest 0) (ge (div (add (mul $p $fewest) 99) 100) $fewest) -}}
{{- end -}}
{{- else if not (kindIs "invalid" $pdb.minAvailable) -}}
{{- $blocks = and (gt $fewest 0) (ge (int $pdb.minAvailable) $fewest) -}}
{{- end -}}
{{- if not $blocks -}}
{{- else if and (not $autoscaled) $percent -}}
{{- $errors = append $errors (printf "podDisruptionBudget.minAvailable %s leaves no worker to evict%s, so every node drain would wait for ever: use maxUnavailable 1" $pdb.minAvailable $percent) -}}
{{- else if not $autoscaled -}}
{{- $errors = append $errors (printf "podDisruptionBudget.minAvailable %v is not below replicaCount %v: no worker could be evicted, so every node drain would wait for ever; use maxUnavailable 1" $pdb.minAvailable .Values.replicaCount) -}}
{{- else if ge (int .Values.autoscaling.minReplicas) 1 -}}
{{- $errors = append $errors (printf "podDisruptionBudget.minAvailable %v leaves no worker to evict%s while the autoscaler runs autoscaling.minReplicas (%v), so every node drain would wait for ever then: use maxUnavailable 1" $pdb.minAvailable $percent .Values.autoscaling.minReplicas) -}}
{{- else -}}
{{- $errors = append $errors (printf "podDisruptionBudget.minAvailable %v leaves no worker to evict while KEDA runs a single one%s: with autoscaling.minReplicas 0 there is no worker to protect at zero, but KEDA wakes one worker first and keeps one while the lag is small, and every node drain would wait for ever then: use maxUnavailable 1" $pdb.minAvailable $percent) -}}
{{- end -}}
{{- end -}}
{{- $ru := .Values.updateStrategy.rollingUpdate | default dict -}}
{{- if and (eq .Values.updateStrategy.type "RollingUpdate") (regexMatch "^0+%?$" (toString (get $ru "maxSurge"))) (regexMatch "^0+%?$" (toString (get $ru "maxUnavailable"))) -}}
{{- $errors = append $errors "updateStrategy.rollingUpdate: maxSurge and maxUnavailable cannot both be 0 (the rollout could never replace a worker; Kubernetes refuses it)" -}}
{{- end -}}
{{- $chartEnv := printf "- name: AlertBroker__Telemetry__HttpAddress\n%s\n%s\n%s" (include "alertbroker.env.kafka" .) (include "alertbroker.env.redis" .) (include "alertbroker.env.schemaRegistry" .) -}}
{{- $chartEnvNames := list -}}
{{- range regexFindAll "(?m)^- name: \\S+" $chartEnv -1 -}}
{{- $chartEnvNames = append $chartEnvNames (trimPrefix "- name: " .) -}}
{{- end -}}
{{- /* The keys of the configuration file too, as environment names (.NET reads AlertBroker__Kafka__BatchSize as
     AlertBroker:Kafka:BatchSize, in any case, and the environment wins over the file): AlertBroker__Telemetry__HttpPort
     in extraEnv was accepted, and the worker listened elsewhere than the probes, the Service and the containerPort.
     A list is one key (its elements are children); a map (Kafka.Properties, Metadata.Sources) a key per entry. */ -}}
{{- $fileKeys := dict -}}
{{- range $name := $chartEnvNames -}}
{{- $_ := set $fileKeys (lower $name) (ternary "metrics.bindAddress" "security" (eq $name "AlertBroker__Telemetry__HttpAddress")) -}}
{{- end -}}
{{- $file := include "alertbroker.appConfig" . | fromJson -}}
{{- range $section, $settings := $file.AlertBroker -}}
{{- range $key, $value := $settings -}}
{{- $from := printf "config.%s.%s" $section $key -}}
{{- if and (eq $section "Telemetry") (eq $key "HttpPort") -}}
{{- $from = "metrics.port" -}}
{{- end -}}
{{- if kindIs "map" $value -}}
{{- range $entry, $_ := $value -}}
{{- $_ := set $fileKeys (lower (printf "AlertBroker__%s__%s__%s" $section $key $entry)) (printf "%s.%s" $from $entry) -}}
{{- end -}}
{{- else -}}
{{- $_ := set $fileKeys (lower (printf "AlertBroker__%s__%s" $section $key)) $from -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $_ := set $fileKeys "shutdowntimeoutseconds" "drain.timeoutSeconds" -}}
{{- $_ := set $fileKeys "logging__loglevel__default" "logLevel" -}}
{{- /* And every other key of `config`, though the file leaves it out while it is empty or null (the worker's default
     applies): in extraEnv it escaped the chart's checks, which see config only (an output topic against TopicPattern,
     the topic KEDA watches, a metadata source's Csv or RedisHash). Until 2026-12-07 only the keys in the file were
     refused, so AlertBroker__Kafka__TopicPattern or AlertBroker__Kafka__ShadowTopic (set to null) passed. A
     Kafka.Properties entry is the exception: it may come from extraEnv, for a per-pod value through the downward API
     (group.instance.id, docs/operations.md), unless config sets it or it is one a typed key owns. */ -}}
{{- $configKeys := dict -}}
{{- range $section, $keys := include "alertbroker.configKeys" . | fromYaml -}}
{{- range $key := $keys -}}
{{- $env := lower (printf "AlertBroker__%s__%s" $section $key) -}}
{{- if and (not (hasKey $fileKeys $env)) (not (and (eq $section "Kafka") (eq $key "Properties"))) -}}
{{- $_ := set $configKeys $env (printf "config.%s.%s" $section $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $property, $key := $owned -}}
{{- $env := lower (printf "AlertBroker__Kafka__Properties__%s" $property) -}}
{{- $typed := lower (printf "AlertBroker__Kafka__%s" $key) -}}
{{- $_ := set (ternary $fileKeys $configKeys (hasKey $fileKeys $typed)) $env (printf "config.Kafka.%s" $key) -}}
{{- end -}}
{{- range $i, $e := .Values.extraEnv -}}
{{- $name := lower (replace ":" "__" $e.name) -}}
{{- /* The most specific key it sets: a metadata source in the file before config.Metadata.Sources as a whole. */ -}}
{{- $match := "" -}}
{{- range $key := concat (keys $fileKeys) (keys $configKeys) -}}
{{- if and (or (eq $name $key) (hasPrefix (printf "%s__" $key) $name)) (gt (len $key) (len $match)) -}}
{{- $match = $key -}}
{{- end -}}
{{- end -}}
{{- if hasKey $fileKeys $match -}}
{{- $errors = append $errors (printf "extraEnv[%d] sets %s, which the chart sets itself (from %s): set it there; a second definition would silently replace the chart's" $i $e.name (get $fileKeys $match)) -}}
{{- else if $match -}}
{{- $errors = append $errors (printf "extraEnv[%d] sets %s, which belongs to %s: set it there, where the chart checks it with the other values (from extraEnv it would escape those checks; while a value is empty the chart leaves it out of the configuration file, and the worker's default applies)" $i $e.name (get $configKeys $match)) -}}
{{- end -}}
{{- /* A plain value is in the Deployment for anyone who may read it, and in the release's stored values. The schema
     refuses one only by the name (password, secret, token, credential); until 2026-12-07 the values were not looked at,
     and OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer …", which values.yaml points collector credentials to, a URL
     with user info or a connection string with password= were rendered. The OTLP exporter's headers are the collector's
     credentials whatever they look like, so a plain value there is refused unless it is composed from variables that
     come from a Secret. Neither message echoes the value. */ -}}
{{- $plain := and (hasKey $e "value") (ne (toString $e.value) "") -}}
{{- if and $plain (regexMatch "(?i)^OTEL_EXPORTER_OTLP(_[A-Z]+)?_HEADERS$" $e.name) -}}
{{- /* Unless every header's value is composed of variables from elsewhere ($(NAME), defined earlier in the list from a
     Secret), with at most a scheme word before: "Authorization=Bearer $(OTLP_TOKEN)". */ -}}
{{- $composed := true -}}
{{- range $header := splitList "," (toString $e.value) -}}
{{- $hv := regexReplaceAll "^[^=]*=" $header "" -}}
{{- if not (and (regexMatch "\\$\\([A-Za-z_][A-Za-z0-9_]*\\)" $hv) (regexMatch "^\\s*([A-Za-z]+\\s+)?$" (regexReplaceAll "\\$\\([A-Za-z_][A-Za-z0-9_]*\\)" $hv ""))) -}}
{{- $composed = false -}}
{{- end -}}
{{- end -}}
{{- if not $composed -}}
{{- $errors = append $errors (printf "extraEnv[%d] %s has a plain value: the OTLP exporter's headers carry the collector's credentials (Authorization=…, api-key=…), which a plain value puts in the Deployment for anyone who may read it; take it from a Secret (valueFrom.secretKeyRef), or compose each header's value from variables that come from one ($(NAME), e.g. Authorization=Bearer $(OTLP_TOKEN))" $i $e.name) -}}
{{- end -}}
{{- else if $plain -}}
{{- with include "alertbroker.credentialHint" $e.value -}}
{{- $errors = append $errors (printf "extraEnv[%d] %s has a plain value holding what looks like a credential (%s), which would be in the Deployment for anyone who may read it: take it from a Secret (valueFrom.secretKeyRef), or compose it from a variable that comes from one ($(NAME), defined before it); if it is no secret, take it from a ConfigMap (valueFrom.configMapKeyRef)" $i $e.name .) -}}
{{- end -}}
{{- end -}}
{{- /* A static member id from extraEnv is checked as in config.Kafka.Properties: one value for every pod (a plain value,
     a ConfigMap's or Secret's, a pod field all the pods share) fences one worker with the next. Until 2026-12-07 a plain
     value was accepted here while the same setting under config was refused. */ -}}
{{- if and (eq $name "alertbroker__kafka__properties__group.instance.id") (or $several $surge) -}}
{{- $field := dig "valueFrom" "fieldRef" "fieldPath" "" $e -}}
{{- if not (has $field (list "metadata.name" "metadata.uid" "status.podIP" "status.podIPs")) -}}
{{- $source := ternary (printf "valueFrom.fieldRef %s, which the pods share" $field) (ternary "a plain value" "a value from a ConfigMap, a Secret or a resource" (hasKey $e "value")) (ne $field "") -}}
{{- $errors = append $errors (printf "extraEnv[%d] gives %s the same value in every pod (%s): with more than one worker (replicaCount, autoscaling.maxReplicas) or a surge pod (updateStrategy.rollingUpdate.maxSurge) a second member with that id fences the first, which stops (exit 70). Take a per-pod id from the downward API (valueFrom.fieldRef.fieldPath metadata.name; docs/operations.md, \"Static membership\")" $i $e.name $source) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* The web view has no authentication (nor have /metrics, /healthz, /readyz): through a NodePort or a LoadBalancer
     anyone who reaches a node or the load balancer reads the pages and the JSON API. Until 2026-12-07 that was rendered
     without a word. Refused rather than warned about: NOTES.txt is shown once by helm install and not at all by GitOps
     tools (Argo CD, Flux), so a warning could go unseen while the data is public; an exposure that is meant (an internal
     load balancer, a network that is private) is one value away, and that value documents the decision. */ -}}
{{- $svc := .Values.metrics.service -}}
{{- if and $c.Web.Enabled $svc.enabled (ne $svc.type "ClusterIP") (not $svc.allowWebViewOutsideCluster) -}}
{{- $errors = append $errors (printf "config.Web.Enabled with metrics.service.type %s makes the web view reachable from outside the cluster, and it has no authentication (the pages, the JSON API with every object's light curve and classifications, /metrics): keep the type ClusterIP and put an authenticating proxy or Ingress in front, or set metrics.service.allowWebViewOutsideCluster true if that exposure is meant (an internal load balancer, a private network)" $svc.type) -}}
{{- end -}}
{{- $sm := .Values.metrics.serviceMonitor -}}
{{- if $sm.enabled -}}
{{- $units := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 -}}
{{- $ms := dict -}}
{{- range $key := list "interval" "scrapeTimeout" -}}
{{- $text := toString (get $sm $key) -}}
{{- $number := regexFind "^[0-9]+" $text -}}
{{- $_ := set $ms $key (mul (atoi $number) (get $units (trimPrefix $number $text))) -}}
{{- end -}}
{{- if gt (get $ms "scrapeTimeout") (get $ms "interval") -}}
{{- $errors = append $errors (printf "metrics.serviceMonitor.scrapeTimeout (%s) must not exceed its interval (%s): Prometheus refuses such a scrape configuration, and the workers' metrics would never arrive" $sm.scrapeTimeout $sm.interval) -}}
{{- end -}}
{{- end -}}
{{- if .Values.promote.enabled -}}
{{- if not .Values.promote.model -}}
{{- $errors = append $errors "promote.model is required when promote.enabled (NAME@VERSION, pushed with alertbroker models push)" -}}
{{- end -}}
{{- if not (include "alertbroker.endpoints" $c.Model.RegistryRedis) -}}
{{- $errors = append $errors "promote.enabled needs config.Model.RegistryRedis: promotion moves the registry's active pointer, which the workers follow" -}}
{{- end -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nalertbroker: invalid values:\n  - %s\n" (join "\n  - " $errors)) -}}
{{- end -}}
{{- end -}}

{{/* The pod's security context lines shared by the workers and the promote Job. */}}
{{- define "alertbroker.podCommon" -}}
serviceAccountName: {{ include "alertbroker.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.automountServiceAccountToken }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
