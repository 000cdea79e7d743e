/*!
DNS on the wire, for DNS-01.

- [`txt_values`] asks one server directly (recursion off) what TXT values it
  serves for a name: the building block of propagation checks.
- [`wait_for_txt`] polls every authoritative server until all serve a value,
  and names the ones that lag when time runs out.
- [`authoritative_servers`] finds a zone's authoritative servers (NS, then
  A/AAAA) through a recursive resolver, for propagation checks without a
  configured server list.
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
pub use query::{
    authoritative_servers, follow_cname, follow_cname_recursive, resolv_conf_nameserver,
    txt_values, wait_for_txt,
};
pub use update::{TsigAlgorithm, TsigKey, UpdateAction, update_txt};
