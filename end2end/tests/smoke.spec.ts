import { test, expect, open, project } from "./fixtures";

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

test("the site's files arrive compressed, named by their content, and a returning browser fetches none", async ({
  page,
  server,
}) => {
  await open(page, "/");
  const urls: string[] = await page.evaluate(() =>
    [...document.querySelectorAll("link[href], script[src]")].map((e: any) => e.href || e.src),
  );
  const pkg = urls.filter((u) => u.includes("/pkg/"));
  // One directory named by the content of the whole package (scripts/build-site.sh).
  expect(pkg.some((u) => /\/pkg\/\w+\/maestro_bg\.wasm$/.test(u)), pkg.join(" ")).toBe(true);
  expect(pkg.some((u) => /\/pkg\/\w+\/maestro\.css$/.test(u)), pkg.join(" ")).toBe(true);
  for (const u of [...pkg, ...urls.filter((u) => u.includes("/xterm/"))]) {
    for (const encoding of ["br", "gzip"]) {
      const r = await server.fetch(u, { headers: { "accept-encoding": encoding } });
      expect(r.headers.get("content-encoding"), `${u} (${encoding})`).toBe(encoding);
    }
    const cache = (await server.fetch(u)).headers.get("cache-control") ?? "";
    expect(cache, u).toContain(/\/pkg\/\w+\//.test(u) ? "immutable" : "no-cache");
  }

  // Coming back, none of the files named by their content is asked of the network.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const cached = new Set<string>();
  const network: string[] = [];
  cdp.on("Network.requestServedFromCache", (e: any) => cached.add(e.requestId));
  cdp.on("Network.responseReceived", (e: any) => {
    const fromCache = cached.has(e.requestId) || e.response.fromDiskCache || e.response.fromPrefetchCache;
    if (/\/pkg\/\w+\//.test(e.response.url) && !fromCache) network.push(e.response.url);
  });
  await open(page, "/");
  expect(network).toEqual([]);
});

test("the page loads the app's wasm alone; a task's details arrive as a chunk of their own the first time, compressed and cached for ever", async ({
  page,
  server,
}) => {
  const p = await project(server, "Chunks");
  await server.api("POST", "/tasks", { projectId: p.id, title: "Look inside" });
  const wasm: { url: string; encoding?: string; cache?: string }[] = [];
  page.on("response", (r) => {
    if (r.url().endsWith(".wasm")) {
      const h = r.headers();
      wasm.push({ url: r.url(), encoding: h["content-encoding"], cache: h["cache-control"] });
    }
  });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Look inside" });
  await expect(row).toBeVisible();
  expect(wasm.map((w) => new URL(w.url).pathname)).toEqual([expect.stringMatching(/^\/pkg\/\w+\/maestro_bg\.wasm$/)]);

  await row.getByRole("button", { name: "Details of Look inside" }).click();
  await expect(row.getByRole("textbox", { name: "Title" })).toHaveValue("Look inside");
  // Its own chunk, and the small ones it shares with other parts.
  const chunks = wasm.slice(1);
  const names = chunks.map((w) => new URL(w.url).pathname);
  expect(names.filter((n) => /^\/pkg\/\w+\/split_task_details\.wasm$/.test(n)), names.join(" ")).toHaveLength(1);
  for (const c of chunks) {
    expect(c.encoding, c.url).toBe("br");
    expect(c.cache, c.url).toContain("immutable");
  }

  // Loaded once: closing and opening again builds the details without fetching anything.
  const seen = wasm.length;
  await row.getByRole("button", { name: "Details of Look inside" }).click();
  await expect(row.getByRole("textbox", { name: "Title" })).toHaveCount(0);
  await row.getByRole("button", { name: "Details of Look inside" }).click();
  await expect(row.getByRole("textbox", { name: "Title" })).toHaveValue("Look inside");
  expect(wasm).toHaveLength(seen);
});

test("a part whose code is gone (replaced by a new release) says so and offers a reload; opening it again tries again", async ({
  page,
  server,
}) => {
  test.info().annotations.push({ type: "chunk-gone" });
  const p = await project(server, "Gone");
  await server.api("POST", "/tasks", { projectId: p.id, title: "Look inside" });
  let gone = true;
  await page.route(/\/pkg\/\w+\/split_task_details\.wasm/, (route) =>
    gone ? route.fulfill({ status: 404, body: "" }) : route.fallback(),
  );
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Look inside" });
  const details = row.getByRole("button", { name: "Details of Look inside" });
  await details.click();
  await expect(row.getByRole("alert")).toHaveText(/This part of Maestro could not be loaded/);
  // The rest of the page is alive: the list still takes a new task.
  await server.api("POST", "/tasks", { projectId: p.id, title: "Still live" });
  await expect(page.getByRole("listitem", { name: "Still live" })).toBeVisible();

  // "Reload the page" reloads it (still gone there, so the same message).
  await row.getByRole("button", { name: "Reload the page" }).click();
  await page.waitForEvent("load");
  await page.locator("body[data-hydrated=true]").waitFor();
  await details.click();
  await expect(row.getByRole("alert")).toHaveText(/could not be loaded/);

  // Back (the network, or a reload that got the new release): opened again, it loads.
  gone = false;
  await details.click();
  await expect(row.getByRole("alert")).toHaveCount(0);
  await details.click();
  await expect(row.getByRole("textbox", { name: "Title" })).toHaveValue("Look inside");
});

test("switching projects changes the URL; back and forward follow it; any other path is a 404 page", async ({
  page,
  server,
}) => {
  const a = await project(server, "Route A");
  const b = await project(server, "Route B");
  await server.api("POST", "/tasks", { projectId: a.id, title: "Only in A" });
  await server.api("POST", "/tasks", { projectId: b.id, title: "Only in B" });
  await open(page, `/projects/${a.id}`);
  const tasks = page.getByRole("list", { name: "Tasks" });
  await expect(tasks).toContainText("Only in A");
  await page.getByRole("combobox", { name: "Project" }).selectOption(b.id);
  await expect(page).toHaveURL(new RegExp(`/projects/${b.id}$`));
  await expect(tasks).toContainText("Only in B");
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`/projects/${a.id}$`));
  await expect(tasks).toContainText("Only in A");
  await page.goForward();
  await expect(tasks).toContainText("Only in B");

  // The browser logs the 404 of the page it was sent to.
  test.info().annotations.push({ type: "refused-request" });
  const response = await page.goto(`/projects/${a.id}/nope`);
  expect(response?.status()).toBe(404);
  await expect(page.getByText("Page not found.")).toBeVisible();
});
