#!/usr/bin/env bash
# Goes on with the Bach bundle's training run on this machine, in the background at low priority
# (`nice -n 10`), from whatever this clone has:
#
#   npm run build && bash scripts/train_bach.sh [THREADS]      (THREADS default 1; 2 when nothing else trains)
#
# 1. Remakes the card's datasets under out/runs/ when they are missing (the chorales converted, ds128e with
#    its thin-opening copy, which the run trains on, and ds48e, whose eval split the tuning primers come
#    from), and checks the training file's checksum against the card's.
# 2. Starts the card's last train command in $RUN (default out/runs/bach48c): it resumes from the newest
#    checkpoint there; when there is none (a fresh clone, or a machine whose out/ did not survive), it
#    warm-starts from the shipped bundle models/bach.safetensors (its weights; Adam state fresh, step 0).
#    The full checkpoints with Adam state are not committed: the repository has no room left for them
#    (checkpoints/README.md), so the shipped bundle is what a new machine goes on from.
#
# Stop it with `pkill -INT -f run_dir=$RUN` (it saves a checkpoint first). Log: $RUN.log.
# Environment: DATA (default ../shared/data), RUN.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${DATA:-../shared/data}"
RUN="${RUN:-out/runs/bach48c}"
THREADS="${1:-1}"
P=(node dist/cli/polyrnn.js)
source scripts/bach_card.sh
R=out/runs
mkdir -p "$R"
[ -d dist ] || { echo "dist/ is missing: run npm run build first" >&2; exit 2; }
[ -f "$R/bach_notes.tfrecord" ] ||
  "${P[@]}" convert --input_dir="$DATA/bach-chorales-midi" --output_file="$R/bach_notes.tfrecord" --recursive --log=ERROR
[ -f "$R/ds128e/training_thin.tfrecord" ] || bach_datasets "$R/bach_notes.tfrecord" "$R/ds128e"
[ -f "$R/ds48e/eval_poly_tracks.tfrecord" ] ||
  "${P[@]}" dataset --input="$R/bach_notes.tfrecord" --output_dir="$R/ds48e" --eval_ratio=0.1 --seed=1 --max_steps=48 \
    --min_steps=16 --split_long_tracks --log=ERROR
sha=$(sha256sum "$R/ds128e/training_thin.tfrecord" | cut -d' ' -f1)
if [ "$sha" != "$BACH_THIN_SHA" ]; then
  echo "$R/ds128e/training_thin.tfrecord is not the card's (sha256 $sha, the card's $BACH_THIN_SHA): different chorales or code" >&2
  exit 1
fi
if pgrep -f "run_dir=$RUN " >/dev/null; then
  echo "$RUN is already training (pgrep -af run_dir=$RUN)" >&2
  exit 1
fi
start=()
if ! ls "$RUN"/train/model.ckpt-*.safetensors >/dev/null 2>&1; then
  start=(--warm_start=models/bach.safetensors)
  echo "$RUN has no checkpoint: warm start from models/bach.safetensors"
fi
bach_train_args "$RUN" "$R/ds128e/training_thin.tfrecord" "$THREADS"
nohup nice -n 10 "${P[@]}" "${BACH_TRAIN[@]}" "${start[@]}" --num_checkpoints=8 --checkpoint_secs=300 >>"$RUN.log" 2>&1 &
echo "training in the background (pid $!), log $RUN.log"
