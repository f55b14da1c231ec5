// The UI benchmark (bench/): the tests' browser settings, its own directory, never in the
// test run.
import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

export default defineConfig({ ...base, testDir: "./bench", testMatch: /.*\.bench\.ts/, timeout: 30 * 60_000 });
