/*!
DNS on the wire, for DNS-01.

- [`txt_values`] asks one server directly (recursion off) what TXT values it
  serves for a name: the building block of propagation checks.
- [`wait_for_txt`] polls every authoritative server until all serve a value,
  and names the ones that lag when time runs out.
- [`follow_cname`] follows `_acme-challenge` CNAME delegations, detecting loops.
- [`update_txt`] adds or deletes a TXT value with an RFC 2136 dynamic update,
  signed with TSIG (hmac-sha256/384/512), and turns the server's refusal into
  a message that says what to fix.

Messages are built with hickory-proto and sent over UDP, falling back to TCP
when an answer is truncated.
*/

mod exchange;
mod query;
mod update;

pub use exchange::WireError;
pub use query::{follow_cname, txt_values, wait_for_txt};
pub use update::{TsigAlgorithm, TsigKey, UpdateAction, update_txt};
