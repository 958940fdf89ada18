#!/usr/bin/env bash
# The Bach bundle's bar (issue "Shipped models that beat Magenta's"): 30 generations of 128 steps — 10 from
# seed1.mid and 10 from seed2.mid with the notebook's Bach flags, 10 from no primer — without their
# primers, beside the 498 chorales and beside Magenta's Bach bundle's two outputs in the notebook.
#
#   npm run build && bash scripts/bach_quality.sh                       (the default bundle)
#   bash scripts/bach_quality.sh --run_dir=out/runs/bach48c             (a training run's newest checkpoint)
#   bash scripts/bach_quality.sh --bundle_file=F --temperature=0.9      (any generate flags)
#
# Prints one row per collection (polyphony, silent steps, onsets per quarter, notes in the key, key-
# normalised histogram distance to the chorales) and writes the JSON of each to $WORK (default
# out/bach_quality). Environment: DATA (default ../shared/data), WORK, CHORALES (the chorales converted,
# default $WORK/chorales.tfrecord: made once, reused when it exists).
#
# PRIMERS=tuning swaps the primers for a second set, for choosing generation settings without looking at
# the generations above: ten four-voice chords (--primer_pitches, a quarter note each, in ten keys), ten
# outputs each, seed $TUNE_SEED (default 2). Settings are chosen on this set, then reported on the default one.
# PRIMERS=thin is a second tuning set shaped like seed1/seed2 (which the chords were not): twenty lines of one
# or two voices, two or four quarters long, cut from chorales of the eval split by scripts/thin_primers.mjs
# ($EVAL_SPLIT, default out/runs/ds48e/eval_poly_tracks.tfrecord, made by scripts/train_bach.sh), five outputs
# each with the notebook's Bach flags, seed $TUNE_SEED.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${DATA:-../shared/data}"
WORK="${WORK:-out/bach_quality}"
P=(node dist/cli/polyrnn.js)
MODEL=("$@")
[ ${#MODEL[@]} -eq 0 ] && MODEL=(--bundle_file=models/bach.safetensors)
mkdir -p "$WORK"
CHORALES="${CHORALES:-$WORK/chorales.tfrecord}"
[ -f "$CHORALES" ] || "${P[@]}" convert --input_dir="$DATA/bach-chorales-midi" --output_file="$CHORALES" --log=ERROR
rm -rf "$WORK/gen"
BACH=(--condition_on_primer=true --inject_primer_during_generation=false)
if [ "${PRIMERS:-test}" = tuning ]; then
  # Root-position SATB voicings of C, G, D, A, F, Bb major and A, E, D, G minor.
  CHORDS=("[72,67,64,48]" "[71,67,62,55]" "[74,66,57,50]" "[73,64,57,45]" "[69,65,60,53]"
    "[70,65,62,46]" "[72,64,57,45]" "[71,67,59,52]" "[74,69,65,50]" "[70,67,62,43]")
  DIRS=()
  for i in "${!CHORDS[@]}"; do
    "${P[@]}" generate "${MODEL[@]}" --primer_pitches="${CHORDS[$i]}" --num_outputs=10 --num_steps=128 --seed="${TUNE_SEED:-2}" \
      --exclude_primer --output_dir="$WORK/gen/chord$i" --log=ERROR
    DIRS+=("chord$i")
  done
elif [ "${PRIMERS:-test}" = thin ]; then
  EVAL_SPLIT="${EVAL_SPLIT:-out/runs/ds48e/eval_poly_tracks.tfrecord}"
  [ -f "$EVAL_SPLIT" ] || { echo "PRIMERS=thin needs the Bach eval split: $EVAL_SPLIT is missing (bash scripts/train_bach.sh makes it, or set EVAL_SPLIT)" >&2; exit 2; }
  node scripts/thin_primers.mjs "$EVAL_SPLIT" "$WORK/thin_primers" >"$WORK/thin_primers.txt"
  DIRS=()
  for f in "$WORK"/thin_primers/*.mid; do
    name="$(basename "$f" .mid)"
    "${P[@]}" generate "${MODEL[@]}" --primer_midi="$f" "${BACH[@]}" --num_outputs=5 --num_steps=128 \
      --seed="${TUNE_SEED:-2}" --exclude_primer --output_dir="$WORK/gen/$name" --log=ERROR
    DIRS+=("$name")
  done
else
  for seed in seed1 seed2; do
    "${P[@]}" generate "${MODEL[@]}" --primer_midi="examples/midi/$seed.mid" "${BACH[@]}" --num_outputs=10 \
      --num_steps=128 --seed=1 --exclude_primer --output_dir="$WORK/gen/$seed" --log=ERROR
  done
  "${P[@]}" generate "${MODEL[@]}" --num_outputs=10 --num_steps=128 --seed=1 --output_dir="$WORK/gen/none" --log=ERROR
  DIRS=(seed1 seed2 none)
fi
mkdir -p "$WORK/gen/all"
for d in "${DIRS[@]}"; do for f in "$WORK/gen/$d"/*.mid; do cp "$f" "$WORK/gen/all/$d-$(basename "$f")"; done; done
"${P[@]}" eval --music="$WORK/gen/all" --reference="$CHORALES" --json >"$WORK/generated.json"
"${P[@]}" eval --music="examples/midi/startSchubert_contBach_10.mid,examples/midi/startSchubertShort_08.mid" \
  --reference="$CHORALES" --json >"$WORK/magenta.json"
node -e '
  const fs = require("fs");
  const row = (name, s, d) => console.log(`${name.padEnd(24)} polyphony ${s.polyphony.toFixed(2)}  silent ${(s.silent_share * 100).toFixed(1).padStart(4)} %  onsets/quarter ${s.notes_per_quarter.toFixed(2)}  in key ${(s.in_key_share * 100).toFixed(1)} %  key-hist distance ${d === null ? "  -  " : d.toFixed(3)}`);
  const g = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const m = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  row(`chorales (${g.reference.pieces})`, g.reference, null);
  row(`Magenta bundle (${m.music.pieces})`, m.music, m.key_histogram_distance);
  row(`generated (${g.music.pieces})`, g.music, g.key_histogram_distance);' "$WORK/generated.json" "$WORK/magenta.json"
