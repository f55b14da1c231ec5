import { test, expect, open } from "./fixtures";

test("the page is served, hydrates and creates a project", async ({ page }) => {
  await open(page, "/");
  await expect(page.getByRole("heading", { name: "Maestro" })).toBeVisible();
  const name = `Smoke ${Date.now()}`;
  await page.getByRole("textbox", { name: "New project" }).fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("link", { name })).toBeVisible();
  // It is the server's state, not the page's: a reload renders it again.
  await page.reload();
  await expect(page.getByRole("link", { name })).toBeVisible();
});
