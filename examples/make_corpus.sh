#!/usr/bin/env bash
# Build the labelled few-shot and test sets and the pretraining corpus with
# `hep-jepa generate`, one shard (1000 jets) per job, WORKERS jobs at a time.
#
# Jobs are ordered set by set (few-shot, test, pretrain) and, within a set, shard
# index by shard index round-robin across the processes, so stopping at any moment
# leaves the classes balanced to within a shard or two. Rerunning resumes: finished
# shards are skipped.
#
# Seeds: process P of a set with seed base B uses --seed B + label(P)
# (QCD 0, Hbb 1, Zqq 6, Wqq 7, Tbqq 8), so all streams are distinct.
#
# Usage: examples/make_corpus.sh [DATA_DIR]      (environment: WORKERS=2 SHARD_SIZE=1000)
#   nohup nice -n 19 examples/make_corpus.sh data > data/corpus.log 2>&1 &
set -euo pipefail

DATA=${1:-data}
WORKERS=${WORKERS:-2}
SHARD_SIZE=${SHARD_SIZE:-1000}
HEP_JEPA=${HEP_JEPA:-hep-jepa}
declare -A LABEL=([QCD]=0 [Hbb]=1 [Zqq]=6 [Wqq]=7 [Tbqq]=8)
PROCESSES=(QCD Tbqq Wqq Zqq Hbb)
# set name, jets per process, seed base
SETS=("fewshot 3000 1000" "test 2000 2000" "pretrain 20000 3000")

list_jobs() {
    local spec split n_jets base n_shards shard process
    for spec in "${SETS[@]}"; do
        read -r split n_jets base <<< "$spec"
        n_shards=$(( (n_jets + SHARD_SIZE - 1) / SHARD_SIZE ))
        for (( shard = 0; shard < n_shards; shard++ )); do
            for process in "${PROCESSES[@]}"; do
                echo "$DATA/$split/$process $process $n_jets $(( base + LABEL[$process] )) $shard"
            done
        done
    done
}

run_job() {  # out process n_jets seed shard
    echo "$(date -u +%FT%TZ) start $1 shard $5"
    "$HEP_JEPA" generate --out "$1" --process "$2" --n-jets "$3" --seed "$4" --shard "$5" \
        --shard-size "$SHARD_SIZE" --workers 1 --no-progress 2>&1 | grep -v '^#' || true
    echo "$(date -u +%FT%TZ) done  $1 shard $5"
}
export -f run_job
export HEP_JEPA SHARD_SIZE

list_jobs | xargs -P "$WORKERS" -L 1 bash -c 'run_job "$@"' _
echo "$(date -u +%FT%TZ) corpus complete"
