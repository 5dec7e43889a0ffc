{{- define "pixgate.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pixgate.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "pixgate.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pixgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pixgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The port /metrics and /readyz answer on: admin when one is set. */}}
{{- define "pixgate.adminPortName" -}}
{{- if .Values.adminPort -}}admin{{- else -}}http{{- end -}}
{{- end -}}

{{/* Seconds Kubernetes waits after SIGTERM before SIGKILL: the pre-stop
     delay and the drain, rounded up, plus 5 s of slack. */}}
{{- define "pixgate.terminationGracePeriodSeconds" -}}
{{- $ms := add .Values.drain.preStopMs .Values.drain.shutdownTimeoutMs -}}
{{- add (div (add $ms 999) 1000) 5 -}}
{{- end -}}
