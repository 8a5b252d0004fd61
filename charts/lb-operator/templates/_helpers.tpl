{{- define "lb-operator.fullname" -}}{{ .Release.Name }}-lb-operator{{- end -}}
{{- define "lb-operator.class" -}}{{ default (printf "lb-operator.io/%s" .Values.provider) .Values.loadBalancerClass }}{{- end -}}
{{- define "lb-operator.labels" -}}
app.kubernetes.io/name: lb-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
