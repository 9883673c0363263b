{{/*
The scrape endpoint shared by the ServiceMonitor and the PodMonitor. $m is .Values.serviceMonitor or
.Values.podMonitor.
*/}}
{{- define "vault-multicast.scrapeEndpoint" -}}
{{- $m := .monitor -}}
{{- $root := .root -}}
port: http
path: /metrics
scheme: {{ include "vault-multicast.scheme" $root | lower }}
{{- with $m.interval }}
interval: {{ . }}
{{- end }}
{{- with $m.scrapeTimeout }}
scrapeTimeout: {{ . }}
{{- end }}
honorLabels: {{ $m.honorLabels }}
{{- with $m.basicAuth }}
basicAuth:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if and $root.Values.tls.enabled $m.tlsConfig }}
tlsConfig:
  {{- toYaml $m.tlsConfig | nindent 2 }}
{{- end }}
relabelings:
  # The alert rules select job=~".*vault-multicast.*": a fixed job keeps them working whatever the release
  # is called.
  - action: replace
    targetLabel: job
    replacement: {{ $m.jobLabel | quote }}
  # With hostNetwork the instance is the node's IP; the node name is easier to read on dashboards.
  - action: replace
    sourceLabels: [__meta_kubernetes_pod_node_name]
    targetLabel: node
  {{- with $m.relabelings }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with $m.metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
