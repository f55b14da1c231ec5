// The README's screenshots (shots/): the tests' browser settings, their own directory,
// never in the test run. `npx playwright test --config shots.config.ts` writes docs/*.png.
import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

export default defineConfig({ ...base, testDir: "./shots", testMatch: /.*\.shots\.ts/, timeout: 120_000 });
