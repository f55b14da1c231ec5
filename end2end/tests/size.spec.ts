import { test, expect, open, project, Server } from "./fixtures";

/** Makes `n` tasks through the REST API, 32 at a time; returns them newest first. */
async function manyTasks(server: Server, projectId: string, n: number): Promise<any[]> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await server.api("POST", "/tasks", { projectId, title: `Task ${String(i).padStart(5, "0")}` });
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return server.list(`/tasks?projectId=${projectId}`);
}

const scrollTo = (page: any, y: number | "end") =>
  page.locator(".task-scroll").evaluate((el: HTMLElement, y: number | "end") => {
    el.scrollTop = y === "end" ? el.scrollHeight : y;
  }, y);

test("a project of 10,000 tasks loads, scrolls to the end, filters, expands far down and follows changes off screen", async ({
  page,
  server,
}) => {
  test.setTimeout(240_000);
  const p = await project(server, "Big");
  const tasks = await manyTasks(server, p.id, 10_000);
  expect(tasks.length).toBe(10_000);
  // The browser takes the rest of the list in pages, never the whole of it at once.
  const pages: number[] = [];
  page.on("response", async (r: any) => {
    if (r.url().includes("/sfn/list_task_page")) pages.push((await r.body()).length);
  });
  await open(page, `/projects/${p.id}`);
  await expect(page.getByLabel("Task counts")).toHaveText("10000 tasks · 10000 pending · 0 in progress · 0 in review · 0 completed · 0 blocked");
  // Only about a screenful of rows exists, the first ones: the page carries no more.
  await expect(page.getByRole("listitem", { name: tasks[0].title })).toBeVisible();
  expect(await page.locator(".tasks > li").count()).toBeLessThan(120);
  const html = await (await server.fetch(`${server.url}/projects/${p.id}`)).text();
  expect(html.length).toBeLessThan(400_000);
  // The rest arrives after the page is live.
  await expect(page.getByText("Loading the rest of the 10000 tasks…")).toHaveCount(0, { timeout: 60_000 });
  // (a response's body is read after it arrives: the last may still be on its way here)
  await expect.poll(() => pages.length).toBeGreaterThanOrEqual(10);
  expect(Math.max(...pages)).toBeLessThan(1_100_000);

  // To the very end.
  await scrollTo(page, "end");
  await expect(page.getByRole("listitem", { name: tasks[9_999].title })).toBeVisible();
  expect(await page.locator(".tasks > li").count()).toBeLessThan(120);

  // A change made elsewhere to a task that is off screen shows when it is scrolled to.
  await server.api("PATCH", `/tasks/${tasks[1].id}`, { title: "Renamed elsewhere" });
  await scrollTo(page, 0);
  await expect(page.getByRole("listitem", { name: "Renamed elsewhere" })).toBeVisible();

  // Expand a task far down; its details are there, and the rows after it follow it.
  const far = tasks[7_000];
  await scrollTo(page, 7_000 * 42);
  const row = page.getByRole("listitem", { name: far.title });
  await row.getByRole("button", { name: `Details of ${far.title}` }).click();
  await expect(row.getByRole("textbox", { name: "Title" })).toHaveValue(far.title);
  const below = page.getByRole("listitem", { name: tasks[7_001].title });
  await expect(below).toBeVisible();
  const [a, b] = [await row.boundingBox(), await below.boundingBox()];
  expect(b!.y).toBeGreaterThanOrEqual(a!.y + a!.height);

  // Filter: three tasks made blocked elsewhere are exactly what "blocked" shows; the
  // counts stay exact.
  for (const t of [tasks[3], tasks[5_000], tasks[9_998]]) {
    await server.api("PATCH", `/tasks/${t.id}`, { status: "blocked" });
  }
  await expect(page.getByLabel("Task counts")).toContainText("9997 pending · 0 in progress · 0 in review · 0 completed · 3 blocked");
  await page.getByRole("combobox", { name: "Show" }).selectOption("blocked");
  await expect(page.locator(".tasks > li")).toHaveCount(3);
  await expect(page.getByRole("listitem", { name: tasks[9_998].title })).toBeVisible();

  // The board at this size: exact counts, a column scrolls to its last card, a move from
  // the keyboard lands at once; only what is on screen is rendered.
  await page.getByRole("combobox", { name: "Show" }).selectOption("");
  await page.getByRole("button", { name: "Board", exact: true }).click();
  const column = (name: string) => page.getByRole("group", { name: "Board" }).getByRole("region", { name: `${name} column` });
  await expect(column("pending").getByLabel("9997 tasks")).toBeVisible();
  await column("pending").locator(".column-scroll").evaluate((el: HTMLElement) => (el.scrollTop = el.scrollHeight));
  const last = column("pending").getByRole("listitem", { name: tasks[9_999].title });
  await expect(last).toBeVisible();
  expect(await page.locator(".card").count()).toBeLessThan(80);
  await last.focus();
  await page.keyboard.press("ArrowRight");
  await expect(column("in progress").getByRole("listitem", { name: tasks[9_999].title })).toBeFocused();
  await expect(column("pending").getByLabel("9996 tasks")).toBeVisible();
});
