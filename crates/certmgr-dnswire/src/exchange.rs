//! Sending one DNS message and reading the answer.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long one exchange may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything that can go wrong on the wire.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// No answer in time, or the network failed.
    #[error("no answer from the DNS server {server}: {reason}")]
    Unreachable {
        /// The server asked.
        server: SocketAddr,
        /// What failed.
        reason: String,
    },
    /// The answer could not be parsed, or the question not encoded.
    #[error("bad DNS message from {server}: {reason}")]
    Malformed {
        /// The server asked.
        server: SocketAddr,
        /// What is wrong.
        reason: String,
    },
    /// A name is not a valid DNS name.
    #[error("invalid DNS name {name:?}: {reason}")]
    BadName {
        /// The name.
        name: String,
        /// Why.
        reason: String,
    },
    /// The server refused an update; the message says what to fix.
    #[error("{0}")]
    Refused(String),
    /// A CNAME chain loops or is too long.
    #[error("CNAME chain from {name} {reason}")]
    CnameChain {
        /// Where the chain starts.
        name: String,
        /// loops / is too long.
        reason: String,
    },
    /// Some authoritative servers did not serve the value in time.
    #[error("{name} TXT {value:?} not served in time by {}", lagging.join(", "))]
    NotPropagated {
        /// The record name.
        name: String,
        /// The value waited for.
        value: String,
        /// The servers that lacked it at the end.
        lagging: Vec<String>,
    },
    /// The zone's authoritative servers could not be found.
    #[error(
        "cannot find the authoritative servers of {zone} through the resolver {resolver}: {reason}; give them with --nameserver"
    )]
    NoNameservers {
        /// The zone.
        zone: String,
        /// The recursive resolver asked.
        resolver: SocketAddr,
        /// What was missing.
        reason: String,
    },
    /// TSIG signing or the key itself is unusable.
    #[error("TSIG: {0}")]
    Tsig(String),
}

/// Send `message` to `server` over UDP (TCP if the answer is truncated) and
/// return the answer with the same id.
pub(crate) async fn exchange(server: SocketAddr, message: &Message) -> Result<Message, WireError> {
    let bytes = message.to_vec().map_err(|e| WireError::Malformed {
        server,
        reason: e.to_string(),
    })?;
    let answer = tokio::time::timeout(EXCHANGE_TIMEOUT, udp(server, &bytes, message.id))
        .await
        .map_err(|_| unreachable(server, "timed out"))??;
    if !answer.truncation {
        return Ok(answer);
    }
    tokio::time::timeout(EXCHANGE_TIMEOUT, tcp(server, &bytes))
        .await
        .map_err(|_| unreachable(server, "timed out over TCP"))?
}

fn unreachable(server: SocketAddr, reason: impl Into<String>) -> WireError {
    WireError::Unreachable {
        server,
        reason: reason.into(),
    }
}

fn parse(server: SocketAddr, bytes: &[u8]) -> Result<Message, WireError> {
    Message::from_vec(bytes).map_err(|e| WireError::Malformed {
        server,
        reason: e.to_string(),
    })
}

async fn udp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Message, WireError> {
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| unreachable(server, e.to_string()))?;
    socket
        .connect(server)
        .await
        .map_err(|e| unreachable(server, e.to_string()))?;
    socket
        .send(bytes)
        .await
        .map_err(|e| unreachable(server, e.to_string()))?;
    let mut buffer = vec![0u8; 65_535];
    loop {
        let len = socket
            .recv(&mut buffer)
            .await
            .map_err(|e| unreachable(server, e.to_string()))?;
        let answer = parse(server, &buffer[..len])?;
        // Stray datagrams (a late answer to an earlier question) are skipped.
        if answer.id == id {
            return Ok(answer);
        }
    }
}

async fn tcp(server: SocketAddr, bytes: &[u8]) -> Result<Message, WireError> {
    let mut stream = TcpStream::connect(server)
        .await
        .map_err(|e| unreachable(server, e.to_string()))?;
    let len = u16::try_from(bytes.len()).map_err(|_| WireError::Malformed {
        server,
        reason: "question too large".into(),
    })?;
    stream
        .write_all(&len.to_be_bytes())
        .await
        .map_err(|e| unreachable(server, e.to_string()))?;
    stream
        .write_all(bytes)
        .await
        .map_err(|e| unreachable(server, e.to_string()))?;
    let mut prefix = [0u8; 2];
    stream
        .read_exact(&mut prefix)
        .await
        .map_err(|e| unreachable(server, e.to_string()))?;
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream
        .read_exact(&mut answer)
        .await
        .map_err(|e| unreachable(server, e.to_string()))?;
    parse(server, &answer)
}
