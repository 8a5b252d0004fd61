{{/*
Whether to render a Prometheus Operator object: `enabled` true or false as given, or "auto": only when the cluster
serves the kind (helm install/upgrade ask the apiserver; `helm template` needs --api-versions monitoring.coreos.com/v1/<Kind>).
Args: list root enabled kind. Renders "true" or nothing.
*/}}
{{- define "lb-operator.monitoringEnabled" -}}
{{- $root := index . 0 -}}{{- $enabled := index . 1 -}}{{- $kind := index . 2 -}}
{{- if eq (toString $enabled) "auto" -}}
{{- if $root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" $kind) -}}true{{- end -}}
{{- else if $enabled -}}true{{- end -}}
{{- end -}}
{{/* The Prometheus job labels of the controller (ServiceMonitor: the Service's name) and of the speakers (PodMonitor: namespace/name). */}}
{{- define "lb-operator.controllerJob" -}}{{ include "lb-operator.suffixedName" (list . "metrics") }}{{- end -}}
{{- define "lb-operator.speakerJob" -}}{{ .Release.Namespace }}/{{ include "lb-operator.suffixedName" (list . "speaker") }}{{- end -}}
