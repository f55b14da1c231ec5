// `bash scripts/bench-ui.sh`: the page at 6, 1,000 and 10,000 tasks (60-character titles,
// 200-character descriptions), measured in Debian's Chromium against the release build.
// Prints, per size and as medians of BENCH_RUNS (default 3) page loads: the server's time
// to first byte and to the whole page, the page's bytes, load → hydrated, load → the whole
// list in the browser, a REST change to the top task → visible in the page (polled every
// 10 ms), and the JS heap with the whole list loaded.
import { test, expect, Server, project } from "../tests/fixtures";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function fill(server: Server, projectId: string, n: number) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const title = `Task ${String(i).padStart(5, "0")} `.padEnd(60, "x");
      await server.api("POST", "/tasks", { projectId, title, description: "d".repeat(200) });
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

test("page size and speed by project size", async ({ page, server }) => {
  test.setTimeout(30 * 60_000);
  const rows: string[] = [];
  for (const n of [6, 1_000, 10_000]) {
    const p = await project(server, `Bench ${n}`);
    await fill(server, p.id, n);
    const url = `${server.url}/projects/${p.id}`;
    const ttfb: number[] = [], whole: number[] = [], hydrated: number[] = [], complete: number[] = [];
    const change: number[] = [], heap: number[] = [];
    let bytes = 0;
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      const r = await server.fetch(url);
      ttfb.push(performance.now() - t0);
      bytes = (await r.arrayBuffer()).byteLength;
      whole.push(performance.now() - t0);

      const t1 = Date.now();
      await page.goto(url);
      await page.locator("body[data-hydrated=true]").waitFor({ timeout: 120_000 });
      hydrated.push(Date.now() - t1);
      await expect(page.getByText(/Loading the rest of the/)).toHaveCount(0, { timeout: 120_000 });
      complete.push(Date.now() - t1);
      await expect(page.getByRole("status", { name: "Connection: connected" })).toBeVisible();
      heap.push(await page.evaluate(() => (performance as any).memory?.usedJSHeapSize ?? 0));

      const top = (await server.api("GET", `/tasks?projectId=${p.id}`))[0];
      const mark = `Changed ${n}-${run}`;
      const t2 = Date.now();
      await server.api("PATCH", `/tasks/${top.id}`, { title: mark });
      await page.waitForFunction((m) => document.body.innerText.includes(m), mark, { polling: 10, timeout: 60_000 });
      change.push(Date.now() - t2);
    }
    rows.push(
      `${String(n).padStart(6)} | ${median(ttfb).toFixed(0).padStart(5)} / ${median(whole).toFixed(0).padStart(5)} ms | ` +
        `${(bytes / 1024).toFixed(0).padStart(6)} KiB | ${median(hydrated).toFixed(0).padStart(6)} ms | ` +
        `${median(complete).toFixed(0).padStart(6)} ms | ` +
        `${median(change).toFixed(0).padStart(5)} ms | ${(median(heap) / 1048576).toFixed(1).padStart(5)} MB`,
    );
  }
  console.log(
    "\n tasks | first byte / whole page | page bytes | load→hydrated | load→whole list | REST change→visible | JS heap\n" + rows.join("\n"),
  );
});
