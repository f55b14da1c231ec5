"""Schemathesis hooks for fuzzing Maestro's REST API (scripts/fuzz.sh loads them).

The document states every rule of a request but three that no schema can: a project's
`basePath` must be a directory that exists on the server, its `baseBranch` a name git
accepts, and an `Idempotency-Key` must not have been used before for a different request
(the server answers 422 then, as it should). Valid (positive) cases get a directory that
exists, a branch name git accepts and a fresh key, so that the server accepting valid data
is tested rather than it refusing made-up paths, branches and reused keys. Valid cases on
one workspace (`/workspaces/{id}…`) get the id of the real one scripts/fuzz.sh made, and
its diff a file it has (a file's path must stay inside the worktree: not absolute, no `..`
or `.git` part, which no pattern without look-ahead states).
"""

import os
import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    body = case.body
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    workspace = os.environ.get("FUZZ_WORKSPACE_ID")
    if workspace and case.path.startswith("/workspaces/{id}"):
        case.path_parameters["id"] = workspace
        if case.path == "/workspaces/{id}/diff" and isinstance(case.query, dict):
            case.query["path"] = "README"
            case.query.pop("oldPath", None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    path = body.get("basePath") if isinstance(body, dict) else None
    if isinstance(path, str) and path.strip():
        body["basePath"] = "/tmp"
    # Git's branch rules are more than a pattern can say (no "..", no ".lock" part): a valid
    # case gets a branch git accepts.
    branch = body.get("baseBranch") if isinstance(body, dict) else None
    if isinstance(branch, str):
        body["baseBranch"] = "main"
