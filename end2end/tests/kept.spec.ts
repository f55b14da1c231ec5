// What the person typed or made is never lost without a word: a task that cannot be added
// stays in its field with the reason; a deletion can be undone for a few seconds; edits
// in a task's details survive collapsing it.
import { test, expect, open, project } from "./fixtures";
import type { Page } from "@playwright/test";

const titles = async (server: { api: (m: string, p: string) => Promise<any> }, projectId: string) =>
  (await server.api("GET", `/tasks?projectId=${projectId}`)).map((t: any) => t.title);

const newTitle = (page: Page) => page.getByRole("textbox", { name: "New task title" });

test("a task the server cannot take stays in the field with the reason, and is added once when it can", async ({
  page,
  server,
}) => {
  test.info().annotations.push({ type: "server-downtime" }, { type: "refused-request" });
  const p = await project(server, "Kept");
  await open(page, `/projects/${p.id}`);

  // Unreachable: the text stays, the reason is beside it, no task pretends to exist.
  await server.stop();
  await newTitle(page).fill("Written offline");
  await page.getByRole("button", { name: "Add task" }).click();
  const reason = page.getByRole("alert", { name: "New task not added" });
  await expect(reason).toContainText("cannot be reached");
  await expect(newTitle(page)).toHaveValue("Written offline");
  await expect(page.getByRole("listitem", { name: "Written offline" })).toHaveCount(0);

  // Back: one press adds it, once.
  await server.start();
  await expect(page.getByRole("status", { name: "Connection: connected" })).toBeVisible({ timeout: 15_000 });
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(page.getByRole("listitem", { name: "Written offline" })).toBeVisible();
  await expect(newTitle(page)).toHaveValue("");
  await expect(reason).toHaveCount(0);
  await expect.poll(() => titles(server, p.id)).toEqual(["Written offline"]);

  // Refused (over 500 characters): the text stays where it was typed, with the reason.
  const long = "x".repeat(501);
  await newTitle(page).fill(long);
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(reason).toContainText("500");
  await expect(newTitle(page)).toHaveValue(long);
  expect(await titles(server, p.id)).toEqual(["Written offline"]);
});
