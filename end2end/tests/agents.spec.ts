// An agent started from "Work on task": it reads its prompt, reports progress with the
// `maestro` CLI, and the browser watching the project shows each step as it happens.
import { test, expect, open, project } from "./fixtures";

test("an agent started on a task moves it along, live in the browser", async ({ page, server }) => {
  const p = await project(server, "Agents");
  const prompt = "Say 'hello' to $USER; then stop";
  const task = await server.api("POST", "/tasks", { projectId: p.id, title: "Greet the user", prompt });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Greet the user" });
  const status = row.getByRole("combobox", { name: "Status of Greet the user" });
  await expect(status).toHaveValue("pending");
  await row.getByRole("button", { name: "Details of Greet the user" }).click();
  // The configured agent is offered beside the plain shell.
  const runWith = row.getByRole("combobox", { name: "Run with" });
  await expect(runWith.getByRole("option")).toHaveText(["Shell", "failing", "fake"]);
  await runWith.selectOption("fake");
  await row.getByRole("button", { name: "Work on task" }).click();

  // The agent got the prompt, as a file and substituted (quoted) into its command line.
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toContainText(`prompt file: ${prompt}`);
  await expect(screen.locator(".xterm-rows")).toContainText(`prompt argument: ${prompt}`);
  // Its `maestro task update --status in_progress` shows in this tab.
  await expect(screen.locator(".xterm-rows")).toContainText("press Enter to finish");
  await expect(status).toHaveValue("in_progress");

  await screen.click();
  await page.keyboard.press("Enter");
  await expect(status).toHaveValue("completed");
  // What it printed last stays readable after it exits.
  await expect(screen.locator(".xterm-rows")).toContainText("fake agent: done");
  await expect(screen.locator(".xterm-rows")).toContainText("[process exited with code 0]");
  await expect(page.getByText("This session has ended; its last output stays below")).toBeVisible();
  // It exited 0: its session is completed, and recorded which agent ran.
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  await expect(sessions.getByRole("listitem").filter({ hasText: "Greet the user" })).toContainText("completed");
  const [session] = await server.api("GET", `/sessions?taskId=${task.id}`);
  expect(session.agentId).toBe("fake");
  expect(session.status).toBe("completed");
});
