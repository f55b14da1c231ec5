//! The REST API of workspaces against a real server process (added with the routes).
