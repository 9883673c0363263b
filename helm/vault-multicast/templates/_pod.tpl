{{/*
The agent's pod, shared by the DaemonSet and the Deployment.
*/}}
{{- define "vault-multicast.podTemplate" -}}
{{- $secretName := include "vault-multicast.secretName" . -}}
{{- $scheme := include "vault-multicast.scheme" . -}}
metadata:
  labels:
    {{- include "vault-multicast.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # A changed configuration or credential rolls the pods (maxSurge 0: each old agent says goodbye first).
    checksum/config: {{ include "vault-multicast.config" . | sha256sum }}
    {{- if and $secretName (not .Values.secret.existingSecret) }}
    checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "vault-multicast.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
  hostNetwork: {{ .Values.hostNetwork }}
  dnsPolicy: {{ .Values.dnsPolicy | default (ternary "ClusterFirstWithHostNet" "ClusterFirst" .Values.hostNetwork) }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: agent
      image: {{ include "vault-multicast.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - agent
        - --config
        - {{ include "vault-multicast.configDir" . }}/agent.yaml
      env:
        # The agent expands these in its configuration (${NODE_NAME}, ${POD_IP}...).
        - name: NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: POD_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
        - name: HOST_IP
          valueFrom:
            fieldRef:
              fieldPath: status.hostIP
        - name: HOST_INTERFACE
          value: {{ .Values.lanInterface | quote }}
        - name: VM_HTTP_PORT
          value: {{ .Values.port | quote }}
        - name: VM_ADVERTISE_ADDR
          value: {{ include "vault-multicast.advertiseAddr" . | quote }}
        - name: SECRETS_DIR
          value: {{ .Values.secret.mountPath | quote }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: http
          containerPort: {{ .Values.port }}
          {{- if .Values.hostNetwork }}
          hostPort: {{ .Values.port }}
          {{- end }}
          protocol: TCP
      {{- if .Values.livenessProbe.enabled }}
      livenessProbe:
        httpGet:
          path: /-/healthy
          port: http
          scheme: {{ $scheme }}
        {{- toYaml (omit .Values.livenessProbe "enabled") | nindent 8 }}
      {{- end }}
      {{- if .Values.readinessProbe.enabled }}
      readinessProbe:
        httpGet:
          path: /-/ready
          port: http
          scheme: {{ $scheme }}
        {{- toYaml (omit .Values.readinessProbe "enabled") | nindent 8 }}
      {{- end }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: config
          mountPath: {{ include "vault-multicast.configDir" . }}
          readOnly: true
        {{- if $secretName }}
        - name: secrets
          mountPath: {{ .Values.secret.mountPath }}
          readOnly: true
        {{- end }}
        {{- if .Values.tls.enabled }}
        - name: tls
          mountPath: {{ include "vault-multicast.tlsDir" . }}
          readOnly: true
        {{- end }}
        # Node writes nothing else, but a writable /tmp keeps a read-only root filesystem from surprising
        # libraries that create temporary files.
        - name: tmp
          mountPath: /tmp
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "vault-multicast.fullname" . }}
    {{- if $secretName }}
    - name: secrets
      secret:
        secretName: {{ $secretName }}
        # Readable by the agent's group (fsGroup) only.
        defaultMode: 0440
    {{- end }}
    {{- if .Values.tls.enabled }}
    - name: tls
      secret:
        secretName: {{ .Values.tls.secretName }}
        defaultMode: 0440
    {{- end }}
    - name: tmp
      emptyDir:
        sizeLimit: 16Mi
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
