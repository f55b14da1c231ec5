import { test, expect, open } from "./fixtures";

test("the page is served, hydrates and creates a project", async ({ page }) => {
  await open(page, "/");
  await expect(page.getByRole("heading", { name: "Maestro", exact: true })).toBeVisible();
  const name = `Smoke ${Date.now()}`;
  const invitation = page.getByRole("textbox", { name: "New project name" });
  if (!(await invitation.isVisible())) await page.getByRole("button", { name: "New project" }).click();
  await invitation.fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  const picker = page.getByRole("combobox", { name: "Project" });
  await expect(picker.locator("option:checked")).toHaveText(name);
  await expect(page).toHaveURL(/\/projects\//);
  // It is the server's state, not the page's: a reload renders it again.
  await page.reload();
  await expect(picker.locator("option:checked")).toHaveText(name);
});
