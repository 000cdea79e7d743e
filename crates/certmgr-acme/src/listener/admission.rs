//! Who gets a place on a listener: caps per listener and per client, and
//! eviction of the oldest connection when the listener is full.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// How long a newcomer waits for the place of the connection it evicted.
const EVICTION_WAIT: Duration = Duration::from_secs(1);
/// Newcomers waiting for an evicted connection's place at once; more are
/// refused, so that a flood cannot hold descriptors beyond the cap while
/// evicted connections are being closed.
const MAX_WAITING: usize = 16;

/// The places of one listener.
pub(super) struct Admission {
    shared: Arc<Shared>,
}

struct Shared {
    total: Arc<Semaphore>,
    book: Mutex<Book>,
    max_per_client: usize,
}

#[derive(Default)]
struct Book {
    /// Connections (admitted or waiting) per client key.
    per_client: HashMap<IpAddr, usize>,
    /// Connections holding a place, oldest first, with their eviction signal.
    live: BTreeMap<u64, Arc<Notify>>,
    next_id: u64,
    /// Newcomers waiting for the place of the connection they evicted.
    waiting: usize,
}

impl Shared {
    fn book(&self) -> MutexGuard<'_, Book> {
        // A poisoned lock only means a thread panicked between two plain
        // bookkeeping updates; the maps are still consistent.
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What [`Admission::admit`] decided for a new connection.
pub(super) enum Decision {
    /// Served: run [`Ticket::place`] in the connection's task.
    Admit(Ticket),
    /// Over the client's cap: close it.
    OverClientCap,
    /// The listener is full and nothing can be evicted: close it.
    Full,
}

/// The right to a place; held by the connection's task.
pub(super) struct Ticket {
    slot: ClientSlot,
    permit: Option<OwnedSemaphorePermit>,
    /// Counts this ticket among the waiting newcomers while it exists.
    waiting: Option<Waiting>,
    /// Whether the oldest connection was evicted to make room.
    pub(super) evicted: bool,
}

/// A newcomer's count among [`Book::waiting`]; given back when dropped.
struct Waiting(Arc<Shared>);

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut book = self.0.book();
        book.waiting = book.waiting.saturating_sub(1);
    }
}

/// A connection's count against its client; given back when dropped.
struct ClientSlot {
    shared: Arc<Shared>,
    client: IpAddr,
}

/// A connection's place; given back when dropped.
pub(super) struct Place {
    slot: ClientSlot,
    _permit: OwnedSemaphorePermit,
    id: u64,
    /// Signalled when a newcomer evicts this connection.
    pub(super) evicted: Arc<Notify>,
}

impl Admission {
    /// `max_connections` places in all, `max_per_client` per client key.
    pub(super) fn new(max_connections: usize, max_per_client: usize) -> Self {
        Admission {
            shared: Arc::new(Shared {
                total: Arc::new(Semaphore::new(max_connections)),
                book: Mutex::default(),
                max_per_client,
            }),
        }
    }

    /// Decide at once (in the accept loop) about a connection from `ip`.
    /// When the listener is full, the oldest connection is told to close and
    /// the newcomer takes its place: validators finish within milliseconds,
    /// so the oldest connection is the one least likely to be legitimate.
    pub(super) fn admit(&self, ip: IpAddr) -> Decision {
        let client = client_key(ip);
        let mut book = self.shared.book();
        let count = book.per_client.entry(client).or_insert(0);
        if *count >= self.shared.max_per_client {
            return Decision::OverClientCap;
        }
        let permit = self.shared.total.clone().try_acquire_owned().ok();
        let evicted = permit.is_none();
        if evicted {
            if book.waiting >= MAX_WAITING {
                return Decision::Full;
            }
            let Some((_, oldest)) = book.live.pop_first() else {
                return Decision::Full;
            };
            oldest.notify_one();
            book.waiting += 1;
        }
        *book.per_client.entry(client).or_insert(0) += 1;
        drop(book);
        Decision::Admit(Ticket {
            slot: ClientSlot {
                shared: self.shared.clone(),
                client,
            },
            permit,
            waiting: evicted.then(|| Waiting(self.shared.clone())),
            evicted,
        })
    }
}

impl Ticket {
    /// The place: at once, or once the evicted connection has closed (within
    /// [`EVICTION_WAIT`]); `None` if it did not.
    pub(super) async fn place(self) -> Option<Place> {
        let shared = self.slot.shared.clone();
        let permit = match self.permit {
            Some(permit) => permit,
            None => {
                let wait =
                    tokio::time::timeout(EVICTION_WAIT, shared.total.clone().acquire_owned());
                let permit = wait.await;
                drop(self.waiting);
                permit.ok()?.ok()?
            }
        };
        let evicted = Arc::new(Notify::new());
        let mut book = shared.book();
        let id = book.next_id;
        book.next_id += 1;
        book.live.insert(id, evicted.clone());
        drop(book);
        Some(Place {
            slot: self.slot,
            _permit: permit,
            id,
            evicted,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut book = self.shared.book();
        if let Some(count) = book.per_client.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                book.per_client.remove(&self.client);
            }
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.slot.shared.book().live.remove(&self.id);
    }
}

/// The key under which a client's connections are counted: the IPv4 address,
/// or the /64 prefix of an IPv6 address (one subscriber's usual allocation).
pub(super) fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn admitted(decision: Decision) -> Ticket {
        match decision {
            Decision::Admit(ticket) => ticket,
            Decision::OverClientCap => panic!("over the client cap"),
            Decision::Full => panic!("full"),
        }
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped = IpAddr::V6(Ipv6Addr::from([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0207]));
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[tokio::test]
    async fn a_client_over_its_share_is_refused_and_places_come_back() {
        let admission = Admission::new(10, 2);
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let a = admitted(admission.admit(one)).place().await.unwrap();
        let _b = admitted(admission.admit(one)).place().await.unwrap();
        assert!(matches!(admission.admit(one), Decision::OverClientCap));
        drop(a);
        assert!(matches!(admission.admit(one), Decision::Admit(_)));
    }

    #[tokio::test]
    async fn a_full_listener_evicts_its_oldest_connection() {
        let admission = Admission::new(2, 8);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let oldest = admitted(admission.admit(ip)).place().await.unwrap();
        let newer = admitted(admission.admit(ip)).place().await.unwrap();
        let ticket = admitted(admission.admit(ip));
        assert!(ticket.evicted);
        // The oldest is told to go, the newer one is not.
        tokio::time::timeout(Duration::from_millis(100), oldest.evicted.notified())
            .await
            .expect("the oldest connection is evicted");
        let waiting = tokio::spawn(ticket.place());
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(oldest);
        let place = waiting.await.unwrap();
        assert!(place.is_some(), "the newcomer gets the freed place");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), newer.evicted.notified())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn few_newcomers_wait_for_evicted_places() {
        let admission = Admission::new(MAX_WAITING * 2, MAX_WAITING * 4);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut places = Vec::new();
        for _ in 0..MAX_WAITING * 2 {
            places.push(admitted(admission.admit(ip)).place().await.unwrap());
        }
        let waiting: Vec<Ticket> = (0..MAX_WAITING)
            .map(|_| admitted(admission.admit(ip)))
            .collect();
        assert!(matches!(admission.admit(ip), Decision::Full));
        drop(places);
        for ticket in waiting {
            assert!(ticket.place().await.is_some());
        }
        assert!(matches!(admission.admit(ip), Decision::Admit(_)));
    }

    #[tokio::test]
    async fn a_full_listener_with_nothing_to_evict_refuses() {
        let admission = Admission::new(1, 8);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let _waiting_for_place = admitted(admission.admit(ip));
        assert!(matches!(admission.admit(ip), Decision::Full));
    }
}
