#!/usr/bin/env bash
# Build (and push) the Labworks images (workspaces, hub and model server). See docs/admin/images.md.
#
#   LABWORKS_BUILD_ID=1234 LABWORKS_REGISTRY=registry.example.org/labworks \
#       images/build.sh [--dry-run] [IMAGE ...]
#
# IMAGE: minimal, datascience, pytorch-gpu, hub, serving (default: all). minimal is always built
# first: the other images but serving are built FROM it, by the digest its push returned; serving
# (the model server) is standalone, from the same pinned Python base.
#
# Environment:
#   LABWORKS_BUILD_ID    required; the only tag an image gets is ci-<build-id>. Never "latest".
#   LABWORKS_REGISTRY    registry/namespace to push to (required unless --dry-run).
#   LABWORKS_BUILDER     buildx or buildah (default: docker buildx if it works, else buildah).
#   LABWORKS_SOURCE_URL  org.opencontainers.image.source (default: git remote "origin").
#
# --dry-run prints the commands instead of running them; it needs no builder, registry, skopeo
# or wheel.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ALL_IMAGES=(minimal datascience pytorch-gpu hub serving)
STANDALONE=(minimal serving) # built from the pinned Python base, not FROM minimal

die() {
    printf 'build.sh: %s\n' "$*" >&2
    exit 2
}

usage() {
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

dry_run=0
images=()
for arg in "$@"; do
    case "${arg}" in
        --dry-run) dry_run=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        -*) die "unknown option ${arg}" ;;
        *)
            [[ "${arg,,}" != *latest* ]] || die "refusing \"${arg}\": images are never tagged latest"
            [[ " ${ALL_IMAGES[*]} " == *" ${arg} "* ]] || die "unknown image ${arg} (known: ${ALL_IMAGES[*]})"
            images+=("${arg}")
            ;;
    esac
done
[[ ${#images[@]} -gt 0 ]] || images=("${ALL_IMAGES[@]}")
# minimal first, once; the derived images in the order given.
ordered=(minimal)
for image in "${images[@]}"; do
    [[ " ${ordered[*]} " == *" ${image} "* ]] || ordered+=("${image}")
done

build_id="${LABWORKS_BUILD_ID:-}"
[[ -n "${build_id}" ]] || die "LABWORKS_BUILD_ID is required (images are tagged ci-<build-id>)"
[[ "${build_id}" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$ ]] \
    || die "LABWORKS_BUILD_ID must match [A-Za-z0-9][A-Za-z0-9_.-]*, got \"${build_id}\""
[[ "${build_id,,}" != *latest* ]] || die "refusing build id \"${build_id}\": images are never tagged latest"
tag="ci-${build_id}"

registry="${LABWORKS_REGISTRY:-}"
if [[ -z "${registry}" ]]; then
    ((dry_run)) || die "LABWORKS_REGISTRY is required (images are pushed, then derived FROM by digest)"
    registry="registry.invalid/labworks"
fi
registry="${registry%/}"
[[ "${registry,,}" != *latest* ]] || die "refusing registry \"${registry}\": never latest"

builder="${LABWORKS_BUILDER:-}"
if [[ -z "${builder}" ]]; then
    if command -v docker >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; then
        builder=buildx
    elif command -v buildah >/dev/null 2>&1; then
        builder=buildah
    elif ((dry_run)); then
        builder=buildx
    else
        die "no builder: install docker buildx or buildah (or set LABWORKS_BUILDER)"
    fi
fi
[[ "${builder}" == buildx || "${builder}" == buildah ]] || die "LABWORKS_BUILDER must be buildx or buildah"

revision="$(git -C "${ROOT}" rev-parse HEAD)" || die "cannot read the git revision"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "${ROOT}/pyproject.toml" | head -n 1)"
[[ -n "${version}" ]] || die "cannot read the version from pyproject.toml"
source_url="${LABWORKS_SOURCE_URL:-$(git -C "${ROOT}" remote get-url origin 2>/dev/null || echo unknown)}"
created="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# The one external base: the BASE_IMAGE default of images/minimal/Dockerfile.
base_image="$(sed -n 's/^ARG BASE_IMAGE=//p' "${ROOT}/images/minimal/Dockerfile")"
[[ "${base_image}" =~ @sha256:[0-9a-f]{64}$ ]] || die "the minimal base image is not pinned by digest: ${base_image}"

run() {
    if ((dry_run)); then
        printf '+'
        printf ' %q' "$@"
        printf '\n'
    else
        "$@"
    fi
}

cd "${ROOT}"
printf 'build.sh: %s images %s, tag %s, revision %s\n' "${builder}" "${ordered[*]}" "${tag}" "${revision}"

# The pinned base must still exist, and be what its digest says, before anything is built.
# skopeo takes no reference with both a tag and a digest: ask for <name>@<digest>, which names
# the same content (the tag is only a reminder for people).
base_digest="${base_image##*@}"
base_name="${base_image%@*}"
[[ "${base_name##*/}" != *:* ]] || base_name="${base_name%:*}"
if ((dry_run)); then
    run skopeo inspect --raw "docker://${base_name}@${base_digest}"
else
    command -v skopeo >/dev/null 2>&1 || die "skopeo is required to verify the base image digest"
    base_manifest="$(mktemp)"
    base_errors="$(mktemp)"
    if ! skopeo --command-timeout 120s inspect --raw "docker://${base_name}@${base_digest}" \
        >"${base_manifest}" 2>"${base_errors}"; then
        # skopeo's last fatal message, unquoted, without its "Error parsing image name" prefix
        reason="$(sed -n 's/.*msg="\(.*\)"$/\1/p' "${base_errors}" | tail -n 1 \
            | sed -e 's/\\"/"/g' -e 's/^Error parsing image name "[^"]*": //')"
        reason="${reason:-$(tail -n 1 "${base_errors}")}"
        rm -f "${base_manifest}" "${base_errors}"
        die "cannot verify the pinned base image ${base_name}@${base_digest}: ${reason}" \
            "(a real build must reach the base image's registry; offline, use --dry-run)"
    fi
    actual="sha256:$(sha256sum "${base_manifest}" | cut -d ' ' -f 1)"
    rm -f "${base_manifest}" "${base_errors}"
    [[ "${actual}" == "${base_digest}" ]] \
        || die "the registry's manifest of ${base_name} has digest ${actual}, not the pinned ${base_digest}"
    printf 'build.sh: base image %s@%s verified\n' "${base_name}" "${base_digest}"
fi

shopt -s nullglob
wheels=(dist/labworks-*.whl)
shopt -u nullglob
if [[ ${#wheels[@]} -ne 1 ]]; then
    ((dry_run)) || die "need exactly one dist/labworks-*.whl (found ${#wheels[@]}); build it first"
    printf 'build.sh: note: %s Labworks wheel(s) in dist/; a real build needs exactly one\n' "${#wheels[@]}"
fi

workdir="$(mktemp -d)"
trap 'rm -rf "${workdir}"' EXIT
minimal_ref=""

for image in "${ordered[@]}"; do
    ref="${registry}/labworks-${image}:${tag}"
    [[ "${ref##*:}" == "ci-${build_id}" ]] || die "refusing tag ${ref}"
    args=(
        --file "images/${image}/Dockerfile"
        --build-arg "REVISION=${revision}"
        --build-arg "VERSION=${version}"
        --build-arg "SOURCE=${source_url}"
        --label "org.opencontainers.image.created=${created}"
        --label "io.labworks.build-id=${build_id}"
        --tag "${ref}"
    )
    if [[ " ${STANDALONE[*]} " != *" ${image} "* ]]; then
        args+=(--build-arg "BASE_IMAGE=${minimal_ref}")
    fi
    digest_file="${workdir}/${image}.digest"
    if [[ "${builder}" == buildx ]]; then
        # BuildKit reads images/<image>/Dockerfile.dockerignore itself.
        run docker buildx build "${args[@]}" --provenance=true --sbom=true \
            --metadata-file "${workdir}/${image}.json" --push .
        if ((dry_run)); then
            echo "sha256:DIGEST-OF-${image}" >"${digest_file}"
        else
            sed -n 's/.*"containerimage.digest": *"\(sha256:[0-9a-f]\{64\}\)".*/\1/p' \
                "${workdir}/${image}.json" >"${digest_file}"
        fi
    else
        run buildah build "${args[@]}" --ignorefile "images/${image}/Dockerfile.dockerignore" .
        run buildah push --digestfile "${digest_file}" "${ref}"
        if ((dry_run)); then
            echo "sha256:DIGEST-OF-${image}" >"${digest_file}"
        fi
    fi
    digest="$(cat "${digest_file}")"
    [[ -n "${digest}" ]] || die "no digest for ${ref}"
    printf 'build.sh: image %s@%s\n' "${ref}" "${digest}"
    if [[ "${image}" == minimal ]]; then
        minimal_ref="${registry}/labworks-minimal@${digest}"
    fi
done
