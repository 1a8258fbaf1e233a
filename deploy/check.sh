#!/usr/bin/env bash
# The deploy recipes, checked as CI checks them (./test.sh runs this):
#   1. kubernetes/atlas-job.yaml offline against the Kubernetes API schema and against the Slurm recipe;
#   2. slurm/atlas.sbatch on a real one-node Slurm cluster started on this machine (slurm/local-cluster.sh; as root).
set -euo pipefail
cd "$(dirname "$0")"

[ -d kubernetes/node_modules/kubernetes-models ] || (cd kubernetes && npm ci --no-audit --no-fund --loglevel=error)
node kubernetes/validate.mjs

if [ "$(id -u)" -ne 0 ]; then
  echo "skipped the one-node Slurm cluster: it needs root (sudo deploy/slurm/local-cluster.sh); CI runs it as root"
  exit 0
fi
slurm/local-cluster.sh
