#!/usr/bin/env bash
# Slurm job array for the full grid: one shard per array task, then (as a dependent job) merge and report.
#   sbatch --array=1-8 ci/slurm-array.sh            # the shards
#   sbatch --dependency=afterok:<jobid> ci/slurm-array.sh merge
# Build first with the CUDA backend (the nightly profile selects Device=cuda):
#   dotnet build src/Reproduce.Cli -c Release -p:TorchBackend=cuda
#SBATCH --job-name=reproduce
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=12:00:00
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}"
export OMP_WAIT_POLICY=passive REPRODUCE__Profile=${REPRODUCE__Profile:-nightly}
CLI=src/Reproduce.Cli/bin/Release/net10.0/linux-x64/reproduce.dll
SHARDS=${SLURM_ARRAY_TASK_COUNT:-8}
if [ "${1:-}" = merge ]; then
  dotnet "$CLI" merge results/nightly/shard-*-of-*/nightly.sqlite
  dotnet "$CLI" report
else
  dotnet "$CLI" run --shard "${SLURM_ARRAY_TASK_ID:-1}/$SHARDS"
fi
