#!/usr/bin/env bash
# The original notebook's four Magenta commands, run with polyrnn on its 15 Schubert pieces.
#
#   bash examples/notebook.sh                 # the notebook's full run (35,347 training steps: hours)
#   NUM_TRAINING_STEPS=20 bash examples/notebook.sh   # a smoke run (CI uses tiny step counts)
#
# Flags are the notebook's, verbatim; only paths are adapted. One addition, said where it happens: the
# Schubert files' expressive tempo maps leave Magenta's default dataset pipeline with nothing (README,
# "Dataset"), so `polyphony_rnn_create_dataset` gets --quantize_on_beats --split_long_tracks.
#
# Environment (all optional):
#   DATA_DIR            piano-midi.de folder holding schubert/ and schubert15.txt (default ../shared/data/piano-midi.de)
#   WORK_DIR            where everything is written (default out/notebook)
#   NUM_TRAINING_STEPS  training steps (default 35347, the notebook's run)
#   NUM_STEPS_SCHUBERT  steps generated with the Schubert model (default 32, as the notebook's output)
#   NUM_STEPS_BACH      steps generated with the bach bundle (default 128, as the notebook's outputs)
#   BACH_BUNDLE         the bach bundle (default models/bach.safetensors)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="${DATA_DIR:-$ROOT/../shared/data/piano-midi.de}"
WORK_DIR="${WORK_DIR:-$ROOT/out/notebook}"
NUM_TRAINING_STEPS="${NUM_TRAINING_STEPS:-35347}"
NUM_STEPS_SCHUBERT="${NUM_STEPS_SCHUBERT:-32}"
NUM_STEPS_BACH="${NUM_STEPS_BACH:-128}"
BACH_BUNDLE="${BACH_BUNDLE:-$ROOT/models/bach.safetensors}"
SEEDS="$ROOT/examples/midi"

# Magenta's command names, run from this checkout's build.
if [ ! -f "$ROOT/dist/cli/polyrnn.js" ]; then
  echo "notebook.sh: no build in $ROOT/dist: run 'npm ci' (or 'npm run build') first" >&2
  exit 1
fi
convert_dir_to_note_sequences() { node "$ROOT/dist/cli/convert_dir_to_note_sequences.js" "$@"; }
polyphony_rnn_create_dataset() { node "$ROOT/dist/cli/polyphony_rnn_create_dataset.js" "$@"; }
polyphony_rnn_train() { node "$ROOT/dist/cli/polyphony_rnn_train.js" "$@"; }
polyphony_rnn_generate() { node "$ROOT/dist/cli/polyphony_rnn_generate.js" "$@"; }

if [ ! -f "$DATA_DIR/schubert15.txt" ]; then
  echo "notebook.sh: $DATA_DIR/schubert15.txt not found: set DATA_DIR to the piano-midi.de folder" >&2
  exit 1
fi

# The notebook's input folder: its 15 Schubert pieces (piano-midi.de, CC BY-SA 3.0 DE, Bernd Krueger).
mkdir -p "$WORK_DIR/schubert"
while read -r name; do
  [ -n "$name" ] && cp "$DATA_DIR/schubert/$name" "$WORK_DIR/schubert/"
done <"$DATA_DIR/schubert15.txt"
cd "$WORK_DIR"

echo "== 1/4 convert_dir_to_note_sequences"
convert_dir_to_note_sequences \
  --input_dir=schubert \
  --output_file=schubert.tfrecord \
  --recursive

echo "== 2/4 polyphony_rnn_create_dataset (+ --quantize_on_beats --split_long_tracks, see above)"
polyphony_rnn_create_dataset \
  --input=schubert.tfrecord \
  --output_dir=polyphony_rnn/sequence_examples \
  --eval_ratio=0.10 \
  --quantize_on_beats --split_long_tracks

echo "== 3/4 polyphony_rnn_train"
polyphony_rnn_train \
  --run_dir=polyphony_rnn/logdir/run1 \
  --sequence_example_file=polyphony_rnn/sequence_examples/training_poly_tracks.tfrecord \
  --hparams="batch_size=64,rnn_layer_sizes=[64,64]" \
  --num_training_steps="$NUM_TRAINING_STEPS"

echo "== 4/4 polyphony_rnn_generate: the Schubert model from seed1, primer injected"
polyphony_rnn_generate \
  --run_dir=polyphony_rnn/logdir/run1 \
  --hparams="batch_size=64,rnn_layer_sizes=[64,64]" \
  --output_dir=generated/schubert_seed1 \
  --num_outputs=10 \
  --num_steps="$NUM_STEPS_SCHUBERT" \
  --primer_midi="$SEEDS/seed1.mid" \
  --condition_on_primer=false \
  --inject_primer_during_generation=true

echo "== 4/4 polyphony_rnn_generate: the bach bundle, conditioned on seed1 and on seed2"
for seed in seed1 seed2; do
  polyphony_rnn_generate \
    --bundle_file="$BACH_BUNDLE" \
    --output_dir="generated/bach_$seed" \
    --num_outputs=10 \
    --num_steps="$NUM_STEPS_BACH" \
    --primer_midi="$SEEDS/$seed.mid" \
    --condition_on_primer=true \
    --inject_primer_during_generation=false
done

echo "Done: MIDI files in $WORK_DIR/generated/ (draw them with: npx polyrnn plot FILE.mid)"
