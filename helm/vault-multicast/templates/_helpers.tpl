{{/*
Names, labels and the pieces several templates share.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "vault-multicast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: fullnameOverride, else release-chart, shortened to the release name when it already contains
the chart name (so `helm install vault-multicast .` gives "vault-multicast", not "vault-multicast-vault-multicast").
*/}}
{{- define "vault-multicast.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vault-multicast.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride }}
{{- end }}

{{- define "vault-multicast.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the agent's pods; they never change across upgrades. */}}
{{- define "vault-multicast.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vault-multicast.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "vault-multicast.labels" -}}
helm.sh/chart: {{ include "vault-multicast.chart" . }}
{{ include "vault-multicast.selectorLabels" . }}
app.kubernetes.io/version: {{ include "vault-multicast.imageTag" . | quote }}
app.kubernetes.io/component: agent
app.kubernetes.io/part-of: vault-multicast
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "vault-multicast.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vault-multicast.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "vault-multicast.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* registry/repository, global.imageRegistry first; an empty registry leaves the repository as it is. */}}
{{- define "vault-multicast.image" -}}
{{- $registry := default .Values.image.registry (.Values.global).imageRegistry }}
{{- $repository := ternary .Values.image.repository (printf "%s/%s" $registry .Values.image.repository) (empty $registry) }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (include "vault-multicast.imageTag" .) }}
{{- end }}
{{- end }}

{{/* Where the ConfigMap (agent.yaml) and the Secret's files are mounted. */}}
{{- define "vault-multicast.configDir" -}}/etc/vault-multicast/config{{- end }}
{{- define "vault-multicast.tlsDir" -}}/etc/vault-multicast/tls{{- end }}

{{/* The Secret the agent reads its credentials from, or "" when neither auth nor signing needs one. */}}
{{- define "vault-multicast.secretName" -}}
{{- if or .Values.auth.enabled (ne .Values.signing.mode "off") }}
{{- default (include "vault-multicast.fullname" .) .Values.secret.existingSecret }}
{{- end }}
{{- end }}

{{/* http.listen: one port value, bound on the pod IP (the node's with hostNetwork) or on every address. */}}
{{- define "vault-multicast.listen" -}}
{{- $v6 := eq .Values.ipFamily "IPv6" }}
{{- if eq .Values.listenOn "any" }}
{{- if $v6 }}[::]:{{ .Values.port }}{{ else }}0.0.0.0:{{ .Values.port }}{{ end }}
{{- else }}
{{- if $v6 }}[${POD_IP}]:{{ .Values.port }}{{ else }}${POD_IP}:{{ .Values.port }}{{ end }}
{{- end }}
{{- end }}

{{/* VM_ADVERTISE_ADDR, written with Kubernetes' $(VAR) syntax so the kubelet expands it from POD_IP. */}}
{{- define "vault-multicast.advertiseAddr" -}}
{{- if eq .Values.ipFamily "IPv6" }}[$(POD_IP)]:{{ .Values.port }}{{ else }}$(POD_IP):{{ .Values.port }}{{ end }}
{{- end }}

{{- define "vault-multicast.scheme" -}}
{{- if .Values.tls.enabled }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/*
Refuses value combinations the agent would reject at start-up (a pod in CrashLoopBackOff on every node), so
`helm install` fails at once with the value to change.
*/}}
{{- define "vault-multicast.validate" -}}
{{- $http := .Values.config.http | default dict }}
{{- range $key := list "listen" "auth" "tls" }}
{{- if hasKey $http $key }}
{{- fail (printf "config.http.%s is set by the chart: use %s instead" $key (get (dict "listen" "port, listenOn and ipFamily" "auth" "auth.*" "tls" "tls.*") $key)) }}
{{- end }}
{{- end }}
{{- if hasKey (.Values.config.security | default dict) "signing" }}
{{- fail "config.security.signing is set by the chart: use signing.* instead" }}
{{- end }}
{{- if and (or $http.enableReload $http.enableAdmin) (not .Values.auth.enabled) }}
{{- fail "config.http.enableReload/enableAdmin need auth.enabled: the agent listens on a non-loopback address and refuses unprotected state-changing endpoints there" }}
{{- end }}
{{- if and .Values.auth.enabled (not .Values.secret.existingSecret) (not .Values.auth.token) (not .Values.auth.basic.password) }}
{{- fail "auth.enabled needs auth.token or auth.basic.password (or secret.existingSecret holding `token`/`basic-password`)" }}
{{- end }}
{{- if and .Values.auth.basic.password (not .Values.auth.basic.username) }}
{{- fail "auth.basic.password is set but auth.basic.username is empty" }}
{{- end }}
{{- if ne .Values.signing.mode "off" }}
{{- if not .Values.signing.keys }}
{{- fail (printf "signing.mode %s needs at least one entry in signing.keys" .Values.signing.mode) }}
{{- end }}
{{- if not .Values.secret.existingSecret }}
{{- range .Values.signing.keys }}
{{- if lt (len (default "" .key)) 32 }}
{{- fail (printf "signing.keys[id=%s].key must be at least 32 bytes (e.g. openssl rand -base64 48), or put the keys in secret.existingSecret" .id) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled needs tls.secretName (a kubernetes.io/tls Secret)" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled .Values.podMonitor.enabled }}
{{- fail "enable serviceMonitor or podMonitor, not both: every agent would be scraped twice" }}
{{- end }}
{{- if and .Values.hostNetwork (eq .Values.kind "Deployment") (gt (int .Values.replicaCount) 1) (not .Values.affinity) }}
{{- fail "a Deployment with hostNetwork and replicaCount > 1 needs affinity (pod anti-affinity on the hostname): two agents cannot hold the same port on one node" }}
{{- end }}
{{- end }}

{{/*
The agent's configuration: config from values, plus http.listen, http.auth, http.tls and security.signing built
from the chart's own values, so the ports, paths and Secret keys always agree with the pod spec.
*/}}
{{- define "vault-multicast.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $http := get $cfg "http" | default dict }}
{{- $_ := set $http "listen" (include "vault-multicast.listen" .) }}
{{- $secrets := "${SECRETS_DIR}" }}
{{- if .Values.auth.enabled }}
{{- $auth := dict }}
{{- if or .Values.auth.token .Values.secret.existingSecret }}
{{- $_ := set $auth "tokenFile" (printf "%s/token" $secrets) }}
{{- end }}
{{- if .Values.auth.basic.username }}
{{- $_ := set $auth "basic" (dict "username" .Values.auth.basic.username "passwordFile" (printf "%s/basic-password" $secrets)) }}
{{- end }}
{{- $_ := set $http "auth" $auth }}
{{- end }}
{{- if .Values.tls.enabled }}
{{- $dir := include "vault-multicast.tlsDir" . }}
{{- $_ := set $http "tls" (dict "certFile" (printf "%s/tls.crt" $dir) "keyFile" (printf "%s/tls.key" $dir)) }}
{{- end }}
{{- $_ := set $cfg "http" $http }}
{{- if ne .Values.signing.mode "off" }}
{{- $security := get $cfg "security" | default dict }}
{{- $keys := list }}
{{- range .Values.signing.keys }}
{{- $keys = append $keys (dict "id" .id "file" (printf "%s/signing-%s" $secrets .id)) }}
{{- end }}
{{- $_ := set $security "signing" (dict "mode" .Values.signing.mode "keys" $keys "replayWindow" .Values.signing.replayWindow) }}
{{- $_ := set $cfg "security" $security }}
{{- end }}
{{- include "vault-multicast.quotedYaml" (dict "value" $cfg "indent" 0) }}
{{- end }}

{{/*
YAML for the agent with every string double-quoted. toYaml leaves ${NODE_NAME} unquoted, and the agent gives an
unquoted value that expands to a number or true/false that type (docs/configuration.md), so a node named
"1234" would turn a name into a number. Quoted, each value keeps the type it has in values.yaml.
Called with (dict "value" V "indent" N).
*/}}
{{- define "vault-multicast.quotedYaml" -}}
{{- $pad := repeat (int .indent) " " }}
{{- if kindIs "map" .value }}
{{- range $key := keys .value | sortAlpha }}
{{- $v := get $.value $key }}
{{- $k := ternary $key (toJson $key) (regexMatch "^[A-Za-z_][A-Za-z0-9_.-]*$" $key) }}
{{- if and (or (kindIs "map" $v) (kindIs "slice" $v)) (gt (len $v) 0) }}
{{- printf "%s%s:\n" $pad $k }}
{{- include "vault-multicast.quotedYaml" (dict "value" $v "indent" (add $.indent 2)) }}
{{- else }}
{{- printf "%s%s: %s\n" $pad $k (include "vault-multicast.quotedScalar" $v) }}
{{- end }}
{{- end }}
{{- else if kindIs "slice" .value }}
{{- range .value }}
{{- if and (or (kindIs "map" .) (kindIs "slice" .)) (gt (len .) 0) }}
{{- $child := include "vault-multicast.quotedYaml" (dict "value" . "indent" (add $.indent 2)) }}
{{- printf "%s- %s" $pad (trimPrefix (repeat (int (add $.indent 2)) " ") $child) }}
{{- else }}
{{- printf "%s- %s\n" $pad (include "vault-multicast.quotedScalar" .) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vault-multicast.quotedScalar" -}}
{{- if kindIs "map" . }}{}{{ else if kindIs "slice" . }}[]{{ else }}{{ toJson . }}{{ end }}
{{- end }}
