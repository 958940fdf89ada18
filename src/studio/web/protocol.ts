/** Messages between the Studio page and its two workers (generation, training). */

import type { GenerationSettings } from "../../generate/options.js";
import type { InputFile } from "../../io/convert_core.js";
import type { HParams } from "../../model/api.js";
import type { NoteSequence } from "../../notesequence.js";
import type { DatasetOptions } from "../../pipeline/dataset.js";
import type { StepMetrics } from "../../train/session.js";

/** The generation options of one take (the page makes one output at a time). */
export type GenerateSettings = Omit<GenerationSettings, "numOutputs">;

export type GenRequest = {
  type: "generate";
  id: number;
  /** Bundle bytes (a copy: the page keeps its own). */
  bundle: Uint8Array;
  primer: NoteSequence;
  settings: GenerateSettings;
};

export type GenReply =
  | { type: "ready"; kernels: string; threads: number; notice?: string }
  | { type: "progress"; id: number; fraction: number }
  | {
      type: "done";
      id: number;
      sequence: NoteSequence;
      generateStartStep: number;
      qpm: number;
      score: number;
      seconds: number;
      /** The kernels that ran the model and drew the events (`Kernels.name`). */
      kernels: string;
    }
  | { type: "error"; id: number; message: string };

export type TrainRequest =
  | {
      type: "start";
      files: InputFile[];
      collectionName: string;
      dataset: DatasetOptions;
      /**
       * Quantize on beats: "auto" switches it on when a file has an expressive tempo map (one that
       * `polyrnn dataset` warns about: most of its notes lost to tempo-change splitting).
       */
      onBeats: OnBeats;
      hparams: HParams;
      numSteps: number;
      seed: number;
    }
  | { type: "stop" }
  /** Continue training up to step numSteps (the new target, counted from the first step). */
  | { type: "resume"; numSteps: number }
  | { type: "bundle"; description: string };

export type OnBeats = "auto" | "on" | "off";

export type TrainReply =
  | { type: "ready"; kernels: string; threads: number; notice?: string }
  | {
      type: "dataset";
      files: number;
      converted: number;
      skipped: { name: string; reason: string }[];
      tracks: number;
      /** Tracks held out to measure the model on music it does not train on. */
      evalTracks: number;
      /** Training tracks given a thin opening (the Dataset field "Thin openings"). */
      thinned: number;
      events: number;
      /** Whether the dataset was quantized on beats, and the files with an expressive tempo map. */
      onBeats: boolean;
      expressive: { name: string; tempoChanges: number }[];
      inputNotes: number;
      keptNotes: number;
      warnings: string[];
    }
  | { type: "metrics"; points: StepMetrics[]; tokensPerSec: number }
  | { type: "eval"; step: number; loss: number; accuracy: number }
  | { type: "paused"; step: number }
  | { type: "finished"; step: number }
  | { type: "bundle"; bytes: Uint8Array; step: number }
  | { type: "error"; message: string };

/** What a worker script needs of its global scope (`self` in a dedicated Web Worker). */
export interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((e: MessageEvent) => void) | null;
  location: Location;
}
