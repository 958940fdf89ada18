/** Worker thread of the convert job: converts the files it is sent, one message per file. */
import { parentPort } from "node:worker_threads";
import { type ConvertTask, convertTask } from "./convert_job.js";

parentPort?.on("message", async (task: ConvertTask) => {
  const result = await convertTask(task);
  const transfer = result.ok ? result.records.map((r) => r.buffer as ArrayBuffer) : [];
  parentPort?.postMessage(result, transfer);
});
