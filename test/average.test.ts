// Checkpoint averaging (src/model/average.ts): the element-wise mean, and mismatched sets refused by name.
import { describe, expect, it } from "vitest";
import { averageWeights } from "../src/model/average.js";

const t = (name: string, shape: number[], values: number[]) => ({
  name,
  shape,
  data: Float32Array.from(values),
});

describe("averageWeights", () => {
  it("is the element-wise mean, whatever the order of the tensors in each set", () => {
    const a = [t("w", [2, 2], [1, 2, 3, 4]), t("b", [2], [0, 1])];
    const b = [t("b", [2], [2, 3]), t("w", [2, 2], [3, 2, 1, 0])];
    const c = [t("w", [2, 2], [2, 2, 2, 2]), t("b", [2], [1, 2])];
    expect(averageWeights([a, b, c])).toEqual([t("w", [2, 2], [2, 2, 2, 2]), t("b", [2], [1, 2])]);
    expect(averageWeights([a])).toEqual(a);
  });

  it("refuses sets that are not the same model, saying how they differ", () => {
    const a = [t("w", [2], [1, 2])];
    expect(() => averageWeights([])).toThrow("no weights to average");
    expect(() => averageWeights([a, [t("v", [2], [1, 2])]])).toThrow(
      "weights 2 of 2 do not match the first: no tensor w",
    );
    expect(() => averageWeights([a, [t("w", [1, 2], [1, 2])]])).toThrow("w has shape [1, 2], not [2]");
    expect(() => averageWeights([a, [...a, t("b", [1], [0])]])).toThrow("2 tensors, not 1");
  });
});
