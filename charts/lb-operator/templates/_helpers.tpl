{{/*
Names. helm create's semantics (fullnameOverride as is, else <release>-<nameOverride or chart name>, cut to 63
characters, no trailing "-"), minus its shortcut that drops the chart name from a release name already holding
it: a release named lb-operator keeps lb-operator-lb-operator, so an upgrade never renames existing objects.
*/}}
{{- define "lb-operator.name" -}}{{ default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "lb-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "lb-operator.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{/* fullname-<suffix>, the fullname cut so the whole name stays within 63 characters. Args: list root suffix. */}}
{{- define "lb-operator.suffixedName" -}}
{{- $suffix := index . 1 -}}
{{- printf "%s-%s" (include "lb-operator.fullname" (index . 0) | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}
{{/* The leader Lease: named after the release only, so nameOverride/fullnameOverride never split the leadership. */}}
{{- define "lb-operator.leaseName" -}}{{ printf "%s-lb-operator" .Release.Name }}{{- end -}}
{{- define "lb-operator.class" -}}{{ default (printf "lb-operator.io/%s" .Values.provider) .Values.loadBalancerClass }}{{- end -}}
{{- define "lb-operator.serviceAccountName" -}}{{ default (include "lb-operator.fullname" .) .Values.serviceAccount.name }}{{- end -}}
{{/* repository@digest when a digest is given (the tag is then ignored), else repository:tag. */}}
{{- define "lb-operator.image" -}}
{{- if .Values.image.digest -}}{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}
{{- define "lb-operator.labels" -}}
app.kubernetes.io/name: lb-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{/*
Selector labels of the controller and speaker pods; immutable in a Deployment and a DaemonSet, so they never carry
versions, names from nameOverride/fullnameOverride, or podLabels.
*/}}
{{- define "lb-operator.controllerSelector" -}}
app.kubernetes.io/name: lb-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}
{{- define "lb-operator.speakerSelector" -}}
app.kubernetes.io/name: lb-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: speaker
{{- end -}}
{{/*
Pod template labels: the chart's labels, then the user's podLabels, then the selector labels, each winning over
the ones before, so podLabels can never break a selector. Args: dict root, component (controller or speaker),
podLabels.
*/}}
{{- define "lb-operator.podLabels" -}}
{{- $labels := include "lb-operator.labels" .root | fromYaml -}}
{{- $selector := include (printf "lb-operator.%sSelector" .component) .root | fromYaml -}}
{{- toYaml (mergeOverwrite $labels (deepCopy (default (dict) .podLabels)) $selector) -}}
{{- end -}}
{{/* Environment variable that receives the mounted credentials file's path, by provider. */}}
{{- define "lb-operator.credentialsFileEnv" -}}
{{- if .Values.credentials.file.env -}}{{ .Values.credentials.file.env }}
{{- else if eq .Values.provider "aws" -}}AWS_SHARED_CREDENTIALS_FILE
{{- else -}}GOOGLE_APPLICATION_CREDENTIALS
{{- end -}}
{{- end -}}
{{/* The Secret whose "key" signs the speakers' heartbeats: the user's, else the one the chart generates. */}}
{{- define "lb-operator.heartbeatSecretName" -}}
{{ default (include "lb-operator.suffixedName" (list . "heartbeat")) .Values.speaker.heartbeatSecret }}
{{- end -}}
