#!/usr/bin/env bash
# Remakes every number and picture of the README's "Results" from the shipped bundles (models/) and the
# data in ../shared/data. Writes docs/results/ (pictures, MIDI, JSON) and prints the tables' numbers.
#
#   npm run build && bash scripts/results.sh
#
# Environment (optional): DATA (default ../shared/data), WORK (scratch, default out/results).
set -euo pipefail

# Paths are relative to the repository root, so that the JSON files written name no machine's folders.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${DATA:-../shared/data}"
WORK="${WORK:-out/results}"
OUT="docs/results"
P=(node dist/cli/polyrnn.js)
mkdir -p "$WORK" "$OUT"

# The datasets of the model cards (deterministic: --seed=1 fixes the eval split).
if [ ! -f "$WORK/bach/ds/eval_poly_tracks.tfrecord" ]; then
  "${P[@]}" convert --input_dir="$DATA/bach-chorales-midi" --output_file="$WORK/bach/notes.tfrecord" --log=ERROR
  "${P[@]}" dataset --input="$WORK/bach/notes.tfrecord" --output_dir="$WORK/bach/ds" --eval_ratio=0.1 --seed=1 \
    --max_steps=48 --min_steps=16 --split_long_tracks --log=ERROR
fi
# The same chorales in 128-step windows: how the model does past 48 steps (generations are 128 long).
if [ ! -f "$WORK/bach/ds128/eval_poly_tracks.tfrecord" ]; then
  "${P[@]}" dataset --input="$WORK/bach/notes.tfrecord" --output_dir="$WORK/bach/ds128" --eval_ratio=0.1 --seed=1 \
    --max_steps=128 --split_long_tracks --log=ERROR
fi
if [ ! -f "$WORK/schubert/ds/eval_poly_tracks.tfrecord" ]; then
  mkdir -p "$WORK/schubert/schubert15"
  while read -r name; do
    [ -n "$name" ] && cp "$DATA/piano-midi.de/schubert/$name" "$WORK/schubert/schubert15/"
  done <"$DATA/piano-midi.de/schubert15.txt"
  "${P[@]}" convert --input_dir="$WORK/schubert/schubert15" --output_file="$WORK/schubert/notes.tfrecord" --log=ERROR
  "${P[@]}" dataset --input="$WORK/schubert/notes.tfrecord" --output_dir="$WORK/schubert/ds" --eval_ratio=0.10 \
    --seed=1 --quantize_on_beats --split_long_tracks --log=ERROR
fi

echo "== eval metrics of the bundles on their eval sets (Magenta's eval: dropout on)"
# One eval: bundle, eval split, JSON written, label printed.
evaluate() {
  "${P[@]}" eval --bundle_file="models/$1.safetensors" --sequence_example_file="$2" --json >"$3"
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(process.argv[2], "step", r.model.step, Object.entries(r.metrics).filter(([k]) => !k.includes("per_step"))
      .map(([k, v]) => `${k.replace("metrics/", "")} ${v.toFixed(4)}`).join(", "));' "$3" "$4"
}
for m in bach schubert; do
  evaluate "$m" "$WORK/$m/ds/eval_poly_tracks.tfrecord" "$OUT/eval_$m.json" "$m"
done
evaluate bach "$WORK/bach/ds128/eval_poly_tracks.tfrecord" "$OUT/eval_bach128.json" "bach, 128-step eval windows:"

echo "== generations from seed1 and seed2 with both bundles (--seed=1), drawn as piano rolls"
# The notebook's flags: the bach bundle continues the primer; the Schubert model gets it injected.
for m in bach schubert; do
  if [ "$m" = bach ]; then flags=(--condition_on_primer=true --inject_primer_during_generation=false)
  else flags=(--condition_on_primer=false --inject_primer_during_generation=true); fi
  for seed in seed1 seed2; do
    rm -rf "$WORK/gen/$m-$seed"
    "${P[@]}" generate --bundle_file="models/$m.safetensors" --primer_midi="examples/midi/$seed.mid" \
      "${flags[@]}" --num_outputs=1 --num_steps=128 --seed=1 --output_dir="$WORK/gen/$m-$seed" --log=ERROR
    cp "$WORK/gen/$m-$seed"/*.mid "$OUT/${m}_$seed.mid"
    # seed1 is 17.3 steps long (generation starts at step 18), seed2 9.3 (step 10).
    split=$([ "$seed" = seed1 ] && echo 18 || echo 10)
    "${P[@]}" plot "$OUT/${m}_$seed.mid" --split_step="$split" --output="$OUT/${m}_$seed.png" \
      --title="$m bundle, $seed.mid primer (blue), generated (orange)" >/dev/null
  done
done

echo "== music statistics: 10 generations from seed1 per bundle beside the training data"
for m in bach schubert; do
  if [ "$m" = bach ]; then flags=(--condition_on_primer=true --inject_primer_during_generation=false)
  else flags=(--condition_on_primer=false --inject_primer_during_generation=true); fi
  rm -rf "$WORK/gen10/$m"
  "${P[@]}" generate --bundle_file="models/$m.safetensors" --primer_midi="examples/midi/seed1.mid" \
    "${flags[@]}" --num_outputs=10 --num_steps=128 --seed=1 --exclude_primer --output_dir="$WORK/gen10/$m" --log=ERROR
  "${P[@]}" eval --music="$WORK/gen10/$m" --reference="$WORK/$m/notes.tfrecord" --json >"$OUT/music_$m.json"
done
echo "-- the notebook's own outputs (Magenta's Bach bundle from seed1 and seed2) beside the Bach chorales"
"${P[@]}" eval --music="examples/midi/startSchubert_contBach_10.mid,examples/midi/startSchubertShort_08.mid" \
  --reference="$WORK/bach/notes.tfrecord" --json >"$OUT/music_magenta_bach.json"
for f in bach schubert magenta_bach; do
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const row = (name, s) => console.log(`${name.padEnd(34)} in key ${(s.in_key_share * 100).toFixed(1)} %, polyphony ${s.polyphony.toFixed(2)}, silent ${(s.silent_share * 100).toFixed(1)} %, notes/quarter ${s.notes_per_quarter.toFixed(2)}`);
    row(`${process.argv[2]}: generated (${r.music.pieces})`, r.music);
    row(`${process.argv[2]}: reference (${r.reference.pieces})`, r.reference);
    console.log(`${process.argv[2]}: pitch-class histogram distance ${r.pitch_class_distance.toFixed(3)}`);' "$OUT/music_$f.json" "$f"
done

echo "== frame-level NLL on the benchmarks' valid splits (models/bench-*.safetensors)"
for f in models/bench-*.safetensors; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .safetensors)
  bench="${name#bench-}"
  "${P[@]}" eval --bundle_file="$f" --frames="$DATA/benchmarks/bl2012_$bench.json" --split=valid --json \
    >"$OUT/frames_$bench.json"
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(r.benchmark, "valid:", r.nll_per_frame.toFixed(3), "nats/frame over", r.frames, "frames; END",
      r.end_nll_per_sequence.toFixed(3), "nats/sequence");' "$OUT/frames_$bench.json"
done

echo "== training curves of the shipped models (their metrics.jsonl are kept in docs/results/)"
# The bach bundle's last part (run-bach48c: its warm start from the 7,590-step bundle; run-bach and run-bach48b
# hold the parts before), the Schubert notebook run.
for run in bach:run-bach48c schubert:run-schubert; do
  m="${run%%:*}"
  [ -d "$OUT/${run#*:}" ] || continue
  ref=()
  [ "$m" = schubert ] && ref=(--reference_loss=0.425 --reference_accuracy=0.857 --reference_label="notebook, step 35,347")
  "${P[@]}" plot --metrics="$OUT/${run#*:}" --output="$OUT/curves_$m.svg" "${ref[@]}" \
    --title="Training curves: $m bundle"
done
echo "Done: $OUT"
