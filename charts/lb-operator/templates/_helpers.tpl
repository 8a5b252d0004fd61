{{- define "lb-operator.fullname" -}}{{ .Release.Name }}-lb-operator{{- end -}}
{{- define "lb-operator.class" -}}{{ default (printf "lb-operator.io/%s" .Values.provider) .Values.loadBalancerClass }}{{- end -}}
{{- define "lb-operator.serviceAccountName" -}}{{ default (include "lb-operator.fullname" .) .Values.serviceAccount.name }}{{- end -}}
{{- define "lb-operator.image" -}}{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}{{- end -}}
{{- define "lb-operator.labels" -}}
app.kubernetes.io/name: lb-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{/* Selector labels of the controller pods; immutable in a Deployment, so they never carry versions. */}}
{{- define "lb-operator.controllerSelector" -}}
app.kubernetes.io/name: lb-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}
{{/* Environment variable that receives the mounted credentials file's path, by provider. */}}
{{- define "lb-operator.credentialsFileEnv" -}}
{{- if .Values.credentials.file.env -}}{{ .Values.credentials.file.env }}
{{- else if eq .Values.provider "aws" -}}AWS_SHARED_CREDENTIALS_FILE
{{- else -}}GOOGLE_APPLICATION_CREDENTIALS
{{- end -}}
{{- end -}}
