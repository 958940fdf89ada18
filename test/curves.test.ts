import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PolyrnnError } from "../src/errors.js";
import {
  formatTick,
  type MetricsPoint,
  niceTicks,
  parseMetricsJsonl,
  trainingCurvesSvg,
} from "../src/render/curves.js";
import { runCli, tempDir } from "./helpers/cli.js";

/** A synthetic metrics.jsonl in the trainer's format: loss falling, accuracy rising. */
function metricsText(steps: number[], offset = 0): string {
  return steps
    .map((step) =>
      JSON.stringify({
        step,
        wall_time: 1.7e9 + step,
        loss: 5 / (1 + step / 100) + offset,
        "metrics/perplexity": Math.exp(5 / (1 + step / 100) + offset),
        "metrics/accuracy": 0.9 - 0.7 / (1 + step / 100) - offset / 10,
        "metrics/event_accuracy": 0.5,
        "metrics/no_event_accuracy": 0.9,
        tokens_per_sec: 30000,
      }),
    )
    .map((l) => `${l}\n`)
    .join("");
}

const range = (from: number, to: number, by: number) =>
  Array.from({ length: Math.floor((to - from) / by) + 1 }, (_, i) => from + i * by);

/** The polylines of an SVG: class → number of points. */
function polylines(svg: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of svg.matchAll(/<polyline class="([^"]+)" points="([^"]*)"/g))
    out[m[1]] = m[2].trim().split(/\s+/).length;
  return out;
}

function tickLabels(svg: string, axis: "x" | "y"): string[] {
  return [...svg.matchAll(new RegExp(`<text class="tick ${axis}"[^>]*>([^<]*)</text>`, "g"))].map(
    (m) => m[1],
  );
}

describe("parseMetricsJsonl", () => {
  it("reads the trainer's lines, keeping finite numbers and leaving out nulls and blank lines", () => {
    const text = `${metricsText([10, 20])}\n{"step":30,"loss":null,"metrics/accuracy":0.5,"note":"text"}\r\n`;
    const points = parseMetricsJsonl(text, "m.jsonl");
    expect(points.map((p) => p.step)).toEqual([10, 20, 30]);
    expect(points[0].values.loss).toBeCloseTo(5 / 1.1);
    expect(points[0].values.tokens_per_sec).toBe(30000);
    expect(points[2].values).toEqual({ "metrics/accuracy": 0.5 });
  });

  it("names the file and the line of a bad line", () => {
    const bad = `${metricsText([10])}{"step":20,"loss":\n${metricsText([30])}`;
    expect(() => parseMetricsJsonl(bad, "run/train/metrics.jsonl")).toThrow(PolyrnnError);
    expect(() => parseMetricsJsonl(bad, "run/train/metrics.jsonl")).toThrow(
      /^run\/train\/metrics\.jsonl:2: not a JSON line/,
    );
    expect(() => parseMetricsJsonl(`${metricsText([10])}[1,2]\n`, "f")).toThrow(
      /^f:2: expected a JSON object/,
    );
    expect(() => parseMetricsJsonl(`\n{"loss":1}\n`, "f")).toThrow(/^f:2: "step" must be a whole number/);
    expect(() => parseMetricsJsonl(`{"step":1.5}\n`, "f")).toThrow(/^f:1: "step"/);
  });

  it("leaves out an unfinished last line that training is still writing", () => {
    const points = parseMetricsJsonl(`${metricsText([10, 20])}{"step":30,"lo`, "f");
    expect(points.map((p) => p.step)).toEqual([10, 20]);
    // A finished (newline-terminated) bad last line is still an error.
    expect(() => parseMetricsJsonl(`${metricsText([10])}{"step":30,"lo\n`, "f")).toThrow(/^f:2:/);
  });
});

describe("niceTicks", () => {
  it("picks round ticks 1, 2 or 5 × 10^k apart and widens the domain to them", () => {
    expect(niceTicks(0, 35347, 6)).toMatchObject({ lo: 0, hi: 40000, step: 5000 });
    const acc = niceTicks(0.2012, 0.857, 6);
    expect(acc.ticks).toEqual([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(niceTicks(0, 5.36, 6).ticks).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(niceTicks(0.41, 0.47, 5).ticks).toEqual([0.41, 0.42, 0.43, 0.44, 0.45, 0.46, 0.47]);
    expect(niceTicks(3, 3).ticks.length).toBeGreaterThan(1);
    expect(formatTick(35000, 0)).toBe("35,000");
    expect(formatTick(0.3, 1)).toBe("0.3");
  });
});

describe("trainingCurvesSvg", () => {
  const train = parseMetricsJsonl(metricsText(range(10, 1500, 10)), "train");
  const evalPoints = parseMetricsJsonl(metricsText(range(250, 1500, 250), 0.2), "eval");

  it("draws one polyline per series and panel with a point per summary", () => {
    const svg = trainingCurvesSvg({ train, eval: evalPoints }, { title: "Bach <run>" });
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg).toContain("<title>Bach &#60;run&#62;</title>");
    expect(polylines(svg)).toEqual({ "series train": 150, "series eval": 6 });
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    const [lossPanel, accPanel] = svg.split('<g class="panel accuracy">');
    expect(polylines(lossPanel)).toEqual({ "series train": 150, "series eval": 6 });
    expect(polylines(accPanel)).toEqual({ "series train": 150, "series eval": 6 });
    expect(svg).toContain('class="legend train"');
    expect(svg).toContain('class="legend eval"');
    expect(svg).toContain("train (step 1,500: loss");
    expect(svg).not.toContain('class="reference');
  });

  it("names the series and the x axis when asked (two runs' eval curves against seconds)", () => {
    const svg = trainingCurvesSvg(
      { train: evalPoints, eval: evalPoints },
      { xLabel: "seconds", seriesLabels: { train: "padded", eval: "length <b>" } },
    );
    expect(svg).toContain("padded (seconds 1,500: loss");
    expect(svg).toContain("length &#60;b&#62; (seconds 1,500: loss");
    expect(svg.match(/class="axis-label"[^>]*>seconds</g)).toHaveLength(2);
    expect(svg).not.toContain(">step<");
  });

  it("labels the axes with round ticks", () => {
    const svg = trainingCurvesSvg({ train, eval: evalPoints });
    const xs = tickLabels(svg, "x");
    expect(xs.slice(0, xs.length / 2)).toEqual(["0", "500", "1,000", "1,500"]);
    for (const label of [...xs, ...tickLabels(svg, "y")]) {
      const v = Number(label.replace(/,/g, ""));
      expect(Number.isFinite(v)).toBe(true);
      // At most 2 decimals and every tick a round number: a multiple of 1, 2 or 5 × 10^k.
      expect(label).toMatch(/^\d{1,3}(,\d{3})*(\.\d{1,2})?$/);
    }
    const ys = tickLabels(svg, "y");
    expect(ys[0]).toBe("0"); // the loss panel starts at 0
  });

  it("draws labelled reference lines inside the range", () => {
    const svg = trainingCurvesSvg(
      { train },
      { reference: { loss: 0.425, accuracy: 0.857, label: "notebook, step 35,347" } },
    );
    expect(svg.match(/<line class="reference loss"/g)).toHaveLength(1);
    expect(svg.match(/<line class="reference accuracy"/g)).toHaveLength(1);
    expect(svg).toContain("notebook, step 35,347: loss 0.425</text>");
    expect(svg).toContain("notebook, step 35,347: accuracy 0.857</text>");
    expect(svg).toContain('class="legend reference"');
    const frame = (panel: string) => {
      const m = svg
        .split(`<g class="panel ${panel}">`)[1]
        .match(/<rect class="frame" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/);
      return m ? [Number(m[1]), Number(m[1]) + Number(m[2])] : [];
    };
    for (const panel of ["loss", "accuracy"]) {
      const y = Number(
        svg.match(new RegExp(`<line class="reference ${panel}" x1="[\\d.]+" y1="([\\d.]+)"`))?.[1],
      );
      const [top, bottom] = frame(panel);
      expect(y).toBeGreaterThanOrEqual(top);
      expect(y).toBeLessThanOrEqual(bottom);
    }
    // A reference above every accuracy point widens the axis to include it.
    const low: MetricsPoint[] = [
      { step: 0, values: { loss: 2, "metrics/accuracy": 0.2 } },
      { step: 10, values: { loss: 1.5, "metrics/accuracy": 0.3 } },
    ];
    const ys = tickLabels(trainingCurvesSvg({ train: low }, { reference: { accuracy: 0.857 } }), "y");
    expect(ys.at(-1)).toBe("0.9");
  });

  it("stacks the panels in a narrow picture and says when there is no data", () => {
    const svg = trainingCurvesSvg({ train }, { width: 600 });
    expect(svg).toContain('width="600" height="820"');
    expect(trainingCurvesSvg({})).toContain(">no data</text>");
  });
});

describe("polyrnn plot --metrics", () => {
  function runDir(withEval: boolean): string {
    const dir = tempDir();
    mkdirSync(join(dir, "train"));
    writeFileSync(join(dir, "train/metrics.jsonl"), metricsText(range(10, 200, 10)));
    if (withEval) {
      mkdirSync(join(dir, "eval"));
      writeFileSync(join(dir, "eval/metrics.jsonl"), metricsText([50, 100, 150, 200], 0.1));
    }
    return dir;
  }

  it("writes RUN_DIR/training_curves.svg from train and eval metrics, with reference lines", () => {
    const dir = runDir(true);
    const r = runCli("polyrnn", [
      "plot",
      `--metrics=${dir}`,
      "--reference_loss=0.425",
      "--reference_accuracy=0.857",
      "--reference_label=notebook",
      "--title=Test run",
    ]);
    expect(r.stderr).toContain("train: 20 points to step 200; eval: 4 points to step 200");
    expect(r.status).toBe(0);
    const svg = readFileSync(join(dir, "training_curves.svg"), "utf8");
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("<title>Test run</title>");
    expect(polylines(svg)).toEqual({ "series train": 20, "series eval": 4 });
    expect(svg).toContain("notebook: loss 0.425");
    expect(svg).toContain("notebook: accuracy 0.857");
  });

  it("takes one metrics.jsonl file and --output, and the run folder's train only", () => {
    const dir = runDir(false);
    const out = join(dir, "pics/curves.svg");
    const r = runCli("polyrnn", ["plot", `--metrics=${join(dir, "train/metrics.jsonl")}`, `--output=${out}`]);
    expect(r.status).toBe(0);
    const svg = readFileSync(out, "utf8");
    expect(svg).toContain(`<title>Training curves: ${join(dir, "train/metrics.jsonl")}</title>`);
    expect(polylines(svg)).toEqual({ "series train": 20 });
    expect(runCli("polyrnn", ["plot", `--metrics=${dir}`]).status).toBe(0);
    expect(readFileSync(join(dir, "training_curves.svg"), "utf8")).toContain("<svg ");
  });

  it("fails with one line naming a missing or bad file", () => {
    const dir = tempDir();
    const missing = runCli("polyrnn", ["plot", `--metrics=${dir}`]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toContain(join(dir, "train/metrics.jsonl"));
    const gone = runCli("polyrnn", ["plot", `--metrics=${join(dir, "nope")}`]);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain(join(dir, "nope"));
    const run = runDir(false);
    writeFileSync(join(run, "train/metrics.jsonl"), `${metricsText([10])}oops\n${metricsText([20])}`);
    const bad = runCli("polyrnn", ["plot", `--metrics=${run}`]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe(`error: ${join(run, "train/metrics.jsonl")}:2: not a JSON line: oops`);
  });

  it("rejects flags that do not go together and documents the mode", () => {
    const dir = runDir(false);
    expect(runCli("polyrnn", ["plot", `--metrics=${dir}`, "--output=x.png"]).status).toBe(2);
    expect(runCli("polyrnn", ["plot", `--metrics=${dir}`, "--split_step=4"]).status).toBe(2);
    expect(runCli("polyrnn", ["plot", "x.mid", "--reference_loss=0.4"]).status).toBe(2);
    const help = runCli("polyrnn", ["plot", "--help"]);
    expect(help.status).toBe(0);
    for (const flag of [
      "--metrics",
      "--reference_loss",
      "--reference_accuracy",
      "--reference_label",
      "--split_step",
    ])
      expect(help.stdout).toContain(flag);
    expect(help.stdout).toContain("polyrnn plot --metrics=RUN_DIR");
  });
});
