{{/* Names and labels shared by the templates. */}}

{{- define "labworks.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "labworks.fullname" -}}
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

{{- define "labworks.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "labworks.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: (list $ "platform") */}}
{{- define "labworks.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "labworks.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* An image reference from {repository, tag, digest}: repository:tag@digest when a digest is
given (the tag then only reminds people what it is). A digest must be sha256:<64 hex>. */}}
{{- define "labworks.image" -}}
{{- $ref := .repository -}}
{{- if .tag }}{{ $ref = printf "%s:%s" $ref (toString .tag) }}{{ end -}}
{{- if .digest -}}
{{- if not (regexMatch "^sha256:[0-9a-f]{64}$" .digest) -}}
{{- fail (printf "image digest of %s must be sha256:<64 hex>, not %q" .repository .digest) -}}
{{- end -}}
{{- $ref = printf "%s@%s" $ref .digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{- define "labworks.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "labworks.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "labworks.jobsNamespace" -}}
{{- default .Release.Namespace .Values.jobs.namespace -}}
{{- end -}}

{{/* Where the model servers' InferenceServices are: serving.namespace, else the jobs'. */}}
{{- define "labworks.servingNamespace" -}}
{{- default (include "labworks.jobsNamespace" .) .Values.serving.namespace -}}
{{- end -}}

{{/* The bundled PostgreSQL is installed unless an external database is named. */}}
{{- define "labworks.postgresql.enabled" -}}
{{- if and .Values.postgresql.enabled (not .Values.database.existingSecret) }}true{{ end -}}
{{- end -}}

{{- define "labworks.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "labworks.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The hub service's URL prefix, as JupyterHub gives it: <base_url>services/<name>/ */}}
{{- define "labworks.servicePrefix" -}}
{{- printf "%s/services/%s/" (trimSuffix "/" .Values.hub.baseUrl) .Values.hub.serviceName -}}
{{- end -}}

{{/* The job service's config sections (LABWORKS_JOBS_CONFIG), as JSON. */}}
{{- define "labworks.jobsConfig" -}}
{{- $options := .Values.artifacts.storageOptions | default dict -}}
{{- range $key, $_ := $options -}}
{{- if regexMatch "(?i)(key|secret|token|password|credential)" $key -}}
{{- fail (printf "artifacts.storageOptions.%s looks like a credential: put credentials in the Secret named by artifacts.existingSecret" $key) -}}
{{- end -}}
{{- end -}}
{{- if not (regexMatch "^[a-z][a-z0-9+.-]*://" .Values.artifacts.url) -}}
{{- fail (printf "artifacts.url must be an object store URL job pods can reach (e.g. s3://bucket/jobs), not %q" .Values.artifacts.url) -}}
{{- end -}}
{{- if hasPrefix "file://" .Values.artifacts.url -}}
{{- fail "artifacts.url may not be a local directory: job pods could not reach it" -}}
{{- end -}}
{{- $executor := dict
  "namespace" (include "labworks.jobsNamespace" .)
  "image" (include "labworks.image" .Values.jobs.image)
  "queue_name" (ternary .Values.kueue.localQueue "" .Values.kueue.enabled)
  "artifact_secret" .Values.artifacts.existingSecret
  "service_account" .Values.jobs.serviceAccount
-}}
{{- $sections := deepCopy (.Values.jobs.config | default dict) -}}
{{- /* jobs reach the platform through its Service, which outlives the pod's IP */ -}}
{{- $apiUrl := printf "http://%s.%s.svc:%v%sapi/v1" (include "labworks.fullname" .) .Release.Namespace .Values.platform.port (include "labworks.servicePrefix" .) -}}
{{- $_ := set $sections "JobService" (merge (dict "executor_class" "kubernetes" "api_url" $apiUrl) (get $sections "JobService" | default dict)) -}}
{{- /* the chart's own keys win: the LocalQueue and RBAC below are made for them */ -}}
{{- $_ := set $sections "KubernetesExecutor" (merge $executor (deepCopy (.Values.jobs.executor | default dict))) -}}
{{- $_ := set $sections "ArtifactStore" (dict "url" .Values.artifacts.url "storage_options" $options) -}}
{{- if .Values.serving.enabled -}}
{{- /* the InferenceServices the platform makes name the chart's ServingRuntime */ -}}
{{- $serving := dict
  "namespace" (include "labworks.servingNamespace" .)
  "image" (include "labworks.image" .Values.serving.image)
  "runtime_name" .Values.serving.runtimeName
  "service_account" .Values.serving.serviceAccount
-}}
{{- $_ := set $sections "KServeBackend" (merge $serving (deepCopy (.Values.serving.config | default dict))) -}}
{{- end -}}
{{- toJson $sections -}}
{{- end -}}
