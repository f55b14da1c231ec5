import { test, expect, open, project } from "./fixtures";

test("search narrows the list by title, description and prompt, with the status filter, live, and survives reload", async ({
  page,
  server,
}) => {
  const p = await project(server, "Search");
  const make = (title: string, extra: object = {}) => server.api("POST", "/tasks", { projectId: p.id, title, ...extra });
  await make("Fix the login page");
  await make("Write release notes", { description: "Mention the LOGIN fix" });
  await make("Tidy CSS", { prompt: "Only touch style/main.css" });
  const done = await make("Old login bug");
  await server.api("PATCH", `/tasks/${done.id}`, { status: "completed" });
  await open(page, `/projects/${p.id}`);
  const rows = page.locator(".tasks > li");
  await expect(rows).toHaveCount(4);

  // "/" goes to the search box; typing narrows the list as you type.
  await page.keyboard.press("/");
  const box = page.getByRole("searchbox", { name: "Search tasks" });
  await expect(box).toBeFocused();
  await page.keyboard.type("login");
  await expect(rows).toHaveCount(3);
  await expect(page.getByRole("status", { name: "Search results" })).toHaveText("3 matching “login”");
  // The match is marked in the title (a description match has none to mark).
  await expect(page.getByRole("listitem", { name: "Fix the login page" }).locator("mark")).toHaveText("login");
  await expect(page.getByRole("listitem", { name: "Old login bug" }).locator("mark")).toHaveText("login");
  await expect(page.getByRole("listitem", { name: "Write release notes" })).toBeVisible();
  await expect(page.getByRole("listitem", { name: "Tidy CSS" })).toHaveCount(0);
  await expect(page).toHaveURL(/\?q=login$/);

  // With the status filter: both apply.
  await page.getByLabel("Show").selectOption("completed");
  await expect(rows).toHaveCount(1);
  await expect(page.getByRole("listitem", { name: "Old login bug" })).toBeVisible();
  await page.getByLabel("Show").selectOption("");
  await expect(rows).toHaveCount(3);

  // A change made elsewhere that makes a task match shows at once.
  const tidy = (await server.api("GET", `/tasks?projectId=${p.id}`)).find((t: any) => t.title === "Tidy CSS");
  await server.api("PATCH", `/tasks/${tidy.id}`, { title: "Tidy the login CSS" });
  await expect(rows).toHaveCount(4);
  await expect(page.getByRole("listitem", { name: "Tidy the login CSS" }).locator("mark")).toHaveText("login");

  // The prompt is searched too; a reload (or a shared link) shows the same view.
  await box.fill("main.css");
  await expect(rows).toHaveCount(1);
  await expect(page).toHaveURL(/\?q=main\.css$/);
  await page.reload();
  await page.locator("body[data-hydrated=true]").waitFor();
  await expect(box).toHaveValue("main.css");
  await expect(rows).toHaveCount(1);
  await expect(page.getByRole("listitem", { name: "Tidy the login CSS" })).toBeVisible();

  // Nothing matches: it says so; clearing the box shows every task again.
  await box.fill("zebra");
  await expect(page.getByRole("status", { name: "Search results" })).toHaveText("No task matches “zebra”.");
  await expect(rows).toHaveCount(0);
  await box.fill("");
  await expect(rows).toHaveCount(4);
  await expect(page.getByRole("status", { name: "Search results" })).toHaveCount(0);
});

test("the search's highlight is readable: its text has at least 4.5:1 contrast on it, in the list and on the board", async ({
  page,
  server,
}) => {
  const p = await project(server, "Contrast");
  await server.api("POST", "/tasks", { projectId: p.id, title: "Fix the login page" });
  const done = await server.api("POST", "/tasks", { projectId: p.id, title: "Old login bug" });
  await server.api("PATCH", `/tasks/${done.id}`, { status: "completed" });
  await open(page, `/projects/${p.id}?q=login`);
  // WCAG's contrast ratio of a highlight's computed text colour on its computed background.
  const contrast = (mark: import("@playwright/test").Locator) =>
    mark.evaluate((el) => {
      const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
      const lum = (c: string) => {
        const [r, g, b] = rgb(c).map((v) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const style = getComputedStyle(el);
      const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
      return (a + 0.05) / (b + 0.05);
    });
  for (const title of ["Fix the login page", "Old login bug"]) {
    const mark = page.getByRole("listitem", { name: title }).locator("mark");
    await expect(mark).toHaveText("login");
    expect(await contrast(mark), `the highlight in “${title}”`).toBeGreaterThanOrEqual(4.5);
  }
  await page.getByRole("button", { name: "Board", exact: true }).click();
  const card = page
    .getByRole("region", { name: "pending column" })
    .getByRole("listitem", { name: "Fix the login page" })
    .locator("mark");
  await expect(card).toHaveText("login");
  expect(await contrast(card), "the highlight on a card").toBeGreaterThanOrEqual(4.5);
});
