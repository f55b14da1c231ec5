// The Sessions pane lists the project's sessions as the server has them, not only those
// opened in this browser: one started by a script shows live, a fresh browser (another
// computer) sees what runs, "Clear finished" holds across reloads and tabs of the browser
// (and clears the older ended sessions not yet shown), and another project's sessions are
// one click away.
import { test, expect, open, project } from "./fixtures";
import type { Page } from "@playwright/test";

const pane = (page: Page) => page.getByRole("navigation", { name: "Sessions" });
const session = (page: Page, name: string) => pane(page).getByRole("button", { name, exact: true });

test("a session started by REST shows in an open page's pane live, and in a fresh browser", async ({
  page,
  server,
  browser,
}) => {
  const p = await project(server, "Scripted");
  const other = await project(server, "Elsewhere");
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Scripted work" });
  await open(page, `/projects/${p.id}`);
  await expect(pane(page).getByText("No sessions here.")).toBeVisible();

  // Started by a script while the page is open: it shows, no reload; another project's does not.
  await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id], name: "From a script" });
  await server.api("POST", "/sessions", { projectId: other.id, name: "Other project's agent" });
  await expect(session(page, "From a script")).toBeVisible();
  await expect(pane(page).getByRole("listitem", { name: "From a script" }).getByLabel("1 task", { exact: true })).toBeVisible();
  await expect(session(page, "Other project's agent")).toHaveCount(0);
  // Other projects' running sessions are one click away, and back.
  await pane(page).getByRole("button", { name: /^Other projects \(\d+\)$/ }).click();
  await expect(session(page, "Other project's agent")).toBeVisible();
  await pane(page).getByRole("button", { name: "Only this project" }).click();
  await expect(session(page, "Other project's agent")).toHaveCount(0);

  // A fresh browser (nothing in its localStorage) shows the project's running session.
  const fresh = await browser.newContext();
  await server.login(fresh);
  const second = await fresh.newPage();
  await open(second, `/projects/${p.id}`);
  await expect(session(second, "From a script")).toBeVisible();
  await expect(session(second, "Other project's agent")).toHaveCount(0);
  // Opening it there attaches its terminal.
  await session(second, "From a script").click();
  await expect(second.getByRole("region", { name: "Terminal" }).getByRole("heading", { name: "From a script" })).toBeVisible();
  await fresh.close();
});

test("Clear finished hides the ended sessions in every tab and after a reload; the server keeps them", async ({
  page,
  server,
}) => {
  const p = await project(server, "Clearing");
  const done = await server.api("POST", "/sessions", { projectId: p.id, name: "Done already" });
  await server.api("PATCH", `/sessions/${done.id}`, { status: "completed" });
  const going = await server.api("POST", "/sessions", { projectId: p.id, name: "Still going" });
  await open(page, `/projects/${p.id}`);
  // A fresh browser lists what ended before, with no flag for it (history, not news).
  await expect(session(page, "Done already")).toBeVisible();
  await expect(session(page, "Still going")).toBeVisible();
  const flag = page.getByRole("button", { name: /need attention here/ });
  await expect(flag).toHaveAccessibleName(/^0 need attention here/);

  await pane(page).getByRole("button", { name: "Clear finished" }).click();
  await expect(session(page, "Done already")).toHaveCount(0);
  await expect(session(page, "Still going")).toBeVisible();
  // Another tab of this browser agrees, and so does a reload.
  const tab = await page.context().newPage();
  await open(tab, `/projects/${p.id}`);
  await expect(session(tab, "Still going")).toBeVisible();
  await expect(session(tab, "Done already")).toHaveCount(0);
  await open(page, `/projects/${p.id}`);
  await expect(session(page, "Still going")).toBeVisible();
  await expect(session(page, "Done already")).toHaveCount(0);
  await expect(pane(page).getByRole("button", { name: "Clear finished" })).toHaveCount(0);
  expect((await server.api("GET", `/sessions/${done.id}`)).status).toBe("completed");

  // What ends later shows as ended (and flagged) until cleared in its turn.
  await server.api("PATCH", `/sessions/${going.id}`, { status: "failed" });
  await expect(pane(page).getByRole("listitem", { name: "Still going" }).getByText("failed")).toBeVisible();
  await expect(flag).toHaveAccessibleName(/^1 need attention here/);
  await pane(page).getByRole("button", { name: "Clear finished" }).click();
  await expect(session(page, "Still going")).toHaveCount(0);
  await expect(session(tab, "Still going")).toHaveCount(0);
  await expect(pane(page).getByText("No sessions here.")).toBeVisible();
});

test("a project with more ended sessions than the pane is sent offers the older ones", async ({ page, server }) => {
  const p = await project(server, "Long history");
  // 52 ended, one after the other: the pane is sent the newest 50.
  for (let i = 1; i <= 52; i++) {
    const s = await server.api("POST", "/sessions", { projectId: p.id, name: `Run ${i}` });
    await server.api("PATCH", `/sessions/${s.id}`, { status: "completed" });
  }
  await open(page, `/projects/${p.id}`);
  const rows = pane(page).getByRole("listitem");
  await expect(session(page, "Run 52")).toBeVisible();
  await expect(rows).toHaveCount(50);
  await expect(session(page, "Run 1")).toHaveCount(0);
  await pane(page).getByRole("button", { name: "Older sessions" }).click();
  await expect(session(page, "Run 1")).toBeVisible();
  await expect(rows).toHaveCount(52);
  await expect(pane(page).getByRole("button", { name: "Older sessions" })).toHaveCount(0);
});

test("Clear finished clears the older ended sessions too, until Undo", async ({ page, server }) => {
  const p = await project(server, "Cleared history");
  const end = async (name: string) => {
    const s = await server.api("POST", "/sessions", { projectId: p.id, name });
    await server.api("PATCH", `/sessions/${s.id}`, { status: "completed" });
  };
  for (let i = 1; i <= 52; i++) await end(`Run ${i}`);
  await open(page, `/projects/${p.id}`);
  const rows = pane(page).getByRole("listitem");
  const older = pane(page).getByRole("button", { name: "Older sessions" });
  await expect(rows).toHaveCount(50);
  await expect(older).toBeVisible();

  // The 50 shown and the 2 not yet shown: none comes back, "Older sessions" has none to offer.
  await pane(page).getByRole("button", { name: "Clear finished" }).click();
  await expect(rows).toHaveCount(0);
  await expect(older).toHaveCount(0);
  await expect(pane(page).getByText("No sessions here.")).toBeVisible();
  // Undo: as before.
  await page.getByRole("alert").filter({ hasText: "50 finished sessions cleared" }).getByRole("button", { name: "Undo" }).click();
  await expect(rows).toHaveCount(50);
  await expect(older).toBeVisible();

  // Cleared again, it holds after a reload; what ends later shows.
  await pane(page).getByRole("button", { name: "Clear finished" }).click();
  await expect(rows).toHaveCount(0);
  await open(page, `/projects/${p.id}`);
  await expect(pane(page).getByText("No sessions here.")).toBeVisible();
  await expect(older).toHaveCount(0);
  await end("Run 53");
  await expect(session(page, "Run 53")).toBeVisible();
  await expect(rows).toHaveCount(1);
  await expect(older).toHaveCount(0);
});
