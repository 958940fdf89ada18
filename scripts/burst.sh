#!/usr/bin/env bash
# A training burst for the bach bundle's run on a machine with more cores (this workplace's `device`
# machine, 16 cores, no network and no Node; or any Linux x86-64 machine), in three steps:
#
#   bash scripts/burst.sh prepare     here, with the local run stopped (Ctrl-C; both would go on from one
#                                     step): .burst/ gets Node (xz), the chorales (tar.xz) and the run's
#                                     newest checkpoint (.burst/bach.ckpt.safetensors; the committed one is
#                                     left alone)
#   bash scripts/burst.sh run 8 16    there, with .burst and dist carried: remakes the dataset, resumes the
#                                     run with 16 threads for 8 minutes, writes $OUT/bach.ckpt.safetensors
#                                     and $OUT/burst.log
#   bash scripts/burst.sh land FILE   here: puts the checkpoint that came back into out/runs/bach48c/train,
#                                     where the local run (the card's command) resumes from it
#
# On the device machine, one call: run(command="bash scripts/burst.sh run 8 16", carry=[".burst", "dist"],
# timeout_s=600); the files come back under its files_at. Tried here with `run 1 1` (OUT=/tmp/x): the same
# dataset checksums as out/runs/ds128e (training_thin.tfrecord 950f3f89…), 5 steps in the minute on one thread.
#
# The dataset there is remade by the card's commands from the same files under the same folder name, so its
# eval split and training windows are those of out/runs/ds128e (`run` prints the file's checksum to compare).
# Since step 10,974 the run trains on 128-step windows that end with END only where the piece does, at
# learning rate 0.0003 (models/README.md).
# Environment: DATA (default ../shared/data), RUN (default out/runs/bach48c), OUT (for `run`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${DATA:-../shared/data}"
RUN="${RUN:-out/runs/bach48c}"
source scripts/bach_card.sh

step_of() { # the `step` in a safetensors file's metadata
  "${NODE:-node}" -e 'const b=require("fs").readFileSync(process.argv[1]);const n=Number(b.readBigUInt64LE(0));console.log(JSON.parse(b.subarray(8,8+n)).__metadata__.step)' "$1"
}

case "${1:-}" in
prepare)
  newest=$(ls "$RUN"/train/model.ckpt-*.safetensors | sort -t- -k2 -n | tail -1)
  mkdir -p .burst
  cp "$newest" .burst/bach.ckpt.safetensors
  [ -f .burst/node.xz ] || xz -T0 -9 -c "$(command -v node)" >.burst/node.xz
  tar -cJf .burst/chorales.tar.xz -C "$DATA" bach-chorales-midi
  [ -d dist ] || npm run build
  echo "checkpoint: $newest (step $(step_of .burst/bach.ckpt.safetensors)) -> .burst/bach.ckpt.safetensors"
  echo "carry: .burst and dist ($(du -shc .burst dist | tail -1 | cut -f1) besides the working tree; the limit is 64 MiB in all)"
  ;;
run)
  minutes="${2:?minutes}"
  threads="${3:?threads}"
  OUT="${OUT:?OUT: where the checkpoint goes}"
  NODE=node
  if ! command -v node >/dev/null; then
    xz -dc .burst/node.xz >/tmp/burst-node && chmod +x /tmp/burst-node
    NODE=/tmp/burst-node
  fi
  P=("$NODE" dist/cli/polyrnn.js)
  W=$(mktemp -d)
  trap 'rm -rf "$W"' EXIT
  tar -xJf .burst/chorales.tar.xz -C "$W"
  "${P[@]}" convert --input_dir="$W/bach-chorales-midi" --output_file="$W/notes.tfrecord" --log=ERROR
  bach_datasets "$W/notes.tfrecord" "$W/ds128e"
  sha256sum "$W/ds128e/training_poly_tracks.tfrecord" "$W/ds128e/training_thin.tfrecord" | tee "$OUT/burst.log"
  start=$(step_of .burst/bach.ckpt.safetensors)
  mkdir -p "$W/run/train"
  cp .burst/bach.ckpt.safetensors "$W/run/train/model.ckpt-$start.safetensors"
  # SIGINT at the end: the run saves a checkpoint and exits.
  bach_train_args "$W/run" "$W/ds128e/training_thin.tfrecord" "$threads"
  timeout -s INT "$((minutes * 60))" "${P[@]}" "${BACH_TRAIN[@]}" --num_checkpoints=3 --checkpoint_secs=120 2>&1 |
    tr '\r' '\n' | grep -v '^$' >>"$OUT/burst.log" || true
  newest=$(ls "$W"/run/train/model.ckpt-*.safetensors | sort -t- -k2 -n | tail -1)
  cp "$newest" "$OUT/bach.ckpt.safetensors"
  echo "steps $start -> $(step_of "$newest")" | tee -a "$OUT/burst.log"
  ;;
land)
  file="${2:?the checkpoint that came back}"
  step=$(step_of "$file")
  mkdir -p "$RUN/train"
  local_newest=$(ls "$RUN"/train/model.ckpt-*.safetensors 2>/dev/null | sort -t- -k2 -n | tail -1)
  if [ -n "$local_newest" ] && [ "$(step_of "$local_newest")" -ge "$step" ]; then
    echo "error: $local_newest is at step $(step_of "$local_newest"), not before the burst's $step" >&2
    exit 1
  fi
  cp "$file" "$RUN/train/model.ckpt-$step.safetensors"
  echo "$RUN/train/model.ckpt-$step.safetensors: the local run resumes from it"
  ;;
*)
  sed -n '2,20p' "$0"
  exit 2
  ;;
esac
