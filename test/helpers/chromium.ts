/**
 * Debian's Chromium driven by playwright-core (no browser is downloaded). Without Chromium the browser
 * tests are skipped with a message, except under CI=true, where they fail. POLYRNN_CHROMIUM names
 * another Chromium binary.
 */
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

export const CHROMIUM = process.env.POLYRNN_CHROMIUM ?? "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const IN_CI = /^(1|true)$/i.test(process.env.CI ?? "");

/** Whether to run the browser tests; warns once per test file when they are skipped. */
export function runBrowserTests(what: string): boolean {
  if (!HAS_CHROMIUM && !IN_CI) {
    console.warn(
      `${what} skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set POLYRNN_CHROMIUM)`,
    );
  }
  return HAS_CHROMIUM || IN_CI;
}

/** Starts headless Chromium; under CI=true without it, fails saying how CI installs it. */
export async function launchChromium(): Promise<Browser> {
  if (!HAS_CHROMIUM) {
    throw new Error(`CI=true but there is no Chromium at ${CHROMIUM}: .ci/run installs Debian's chromium`);
  }
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-sync",
      "--no-first-run",
      "--mute-audio",
    ],
  });
}
