#!/usr/bin/env bash
# deploy.sh STEP: "deploys" this component (stage or release) by recording
# the commit under $DEPLOY_DIR, and prints where it would be served.
set -euo pipefail
step=${1:?usage: deploy.sh stage|release}
component=$(basename "$PWD")
: "${DEPLOY_DIR:?DEPLOY_DIR is not set: run me through a stage or release job}"
mkdir -p "$DEPLOY_DIR/$component"
printf '%s %s %s\n' "$step" "${GIT_HASH:-unknown}" "${ENVIRONMENT:-}" >>"$DEPLOY_DIR/$component/deployments"
printf '%s\n' "${GIT_HASH:-unknown}" >"$DEPLOY_DIR/$component/$step"
echo "$component ${GIT_HASH:-unknown} ${step}d to ${ENVIRONMENT:-?}: ${API_URL:-${URL:-}}"
