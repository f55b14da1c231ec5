//! Why a command failed, and so its exit code (docs/SPEC.md §7): 0 ok, 1 refused by the
//! server, 2 usage, 3 not found, 4 unauthorised, 5 server unreachable.

use crate::rest_client::ClientError;

/// What every command returns.
pub(super) type Done = Result<(), Failure>;

/// Why a command failed, and so its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The server answered, or could not be reached.
    Client(ClientError),
    /// The command line lacks something (no id given and none in the environment).
    Usage(String),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        Failure::Client(e)
    }
}

impl Failure {
    /// The exit code of docs/SPEC.md §7.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Client(ClientError::Unreachable { .. }) => 5,
            Failure::Client(ClientError::Api { status: 401 | 403, .. }) => 4,
            Failure::Client(ClientError::Api { status: 404, .. }) => 3,
            Failure::Client(_) => 1,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(m) => write!(f, "{m}"),
            Failure::Client(ClientError::Api { status: 401, .. }) => {
                write!(f, "not authorised: set MAESTRO_TOKEN to the server's access token (a server on this machine keeps it in DATA_DIR/token)")
            }
            Failure::Client(e) => write!(f, "{e}"),
        }
    }
}
