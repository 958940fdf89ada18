#!/usr/bin/env bash
# Chooses the temperature a Bach bundle records (`polyrnn generate --save_generator_bundle --temperature=T`)
# without looking at the generations its card reports: scripts/bach_quality.sh's thin tuning primers
# (PRIMERS=thin, the default: twenty one- and two-voice lines from eval-split chorales, 100 generations;
# PRIMERS=tuning: ten chords) at each temperature of a grid, scored against the chorales beside
# Magenta's two outputs, and the temperature with the smallest score wins (ties: the lower temperature).
#
#   npm run build && bash scripts/choose_temperature.sh --bundle_file=CKPT [1.0 1.1 1.2 ...]
#
# Score: the sum, over the five statistics of bach_quality.sh, of how much further from the chorales the
# generations are than Magenta's outputs (0 where they are as close or closer), each relative to the
# chorales' value (the key-normalised histogram distance: relative to Magenta's). The rule was fixed before
# any grid was run. Writes $WORK/T/ for each temperature (default out/choose_temperature).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MODEL="$1"
shift
GRID=("$@")
[ ${#GRID[@]} -eq 0 ] && GRID=(1.0 1.1 1.15 1.2 1.25 1.3)
WORK="${WORK:-out/choose_temperature}"
mkdir -p "$WORK"
for t in "${GRID[@]}"; do
  # One conversion of the chorales for the whole grid.
  CHORALES="$WORK/chorales.tfrecord" PRIMERS="${PRIMERS:-thin}" WORK="$WORK/$t" bash scripts/bach_quality.sh "$MODEL" --temperature="$t" >/dev/null
done
node -e '
  const fs = require("fs");
  const [work, ...grid] = process.argv.slice(1);
  const stats = [
    ["polyphony", (s) => s.polyphony],
    ["silent", (s) => s.silent_share],
    ["onsets/quarter", (s) => s.notes_per_quarter],
    ["in key", (s) => s.in_key_share],
  ];
  let best;
  for (const t of grid) {
    const g = JSON.parse(fs.readFileSync(`${work}/${t}/generated.json`, "utf8"));
    const m = JSON.parse(fs.readFileSync(`${work}/${t}/magenta.json`, "utf8"));
    let score = 0;
    const parts = [];
    for (const [name, f] of stats) {
      const ref = f(g.reference);
      const short = Math.max(0, Math.abs(f(g.music) - ref) - Math.abs(f(m.music) - ref)) / ref;
      score += short;
      parts.push(`${name} ${f(g.music).toFixed(3)} (${short.toFixed(3)})`);
    }
    const hist = Math.max(0, g.key_histogram_distance - m.key_histogram_distance) / m.key_histogram_distance;
    score += hist;
    parts.push(`key-hist ${g.key_histogram_distance.toFixed(3)} (${hist.toFixed(3)})`);
    console.log(`T=${t}  score ${score.toFixed(3)}  ${parts.join("  ")}`);
    if (!best || score < best.score || (score === best.score && Number(t) < Number(best.t))) best = { t, score };
  }
  console.log(`chosen: --temperature=${best.t}`);' "$WORK" "${GRID[@]}"
