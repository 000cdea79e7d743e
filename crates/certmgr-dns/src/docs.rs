//! The provider documentation, generated from the definitions themselves, so
//! it cannot drift from what certmgr runs (`docs/providers.md`; a test fails
//! when the committed file differs from [`catalog_markdown`]).

use std::fmt::Write;

use crate::Definition;

/// One provider's section: what it is, its parameters, what the token needs,
/// and how to create a DNS account with it.
pub fn provider_markdown(definition: &Definition) -> String {
    let p = &definition.provider;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "## {} (`{}`)\n", p.name, p.id);
    let _ = writeln!(out, "- Website: <{}>", p.website);
    let _ = writeln!(out, "- API documentation followed: <{}>", p.api_docs);
    let _ = writeln!(out, "- Minimum TTL: {} s", p.min_ttl);
    let _ = writeln!(
        out,
        "- Several TXT values on one name (wildcard and base name in one order): {}",
        if p.multi_value_txt { "yes" } else { "no" }
    );
    if p.propagation_secs > 0 {
        let _ = writeln!(out, "- Typical propagation delay: {} s", p.propagation_secs);
    }
    let mut destinations: Vec<String> = p.hosts.iter().map(|h| format!("`{h}`")).collect();
    let from_params = crate::ProviderDefinition::Toml(Box::new(definition.clone()))
        .url_parameters()
        .into_iter()
        .map(|(name, _)| format!("the host of `{name}`"))
        .collect::<Vec<_>>();
    destinations.extend(from_params);
    if !destinations.is_empty() {
        let _ = writeln!(out, "- Requests go to: {}", destinations.join(", "));
    }
    if let Some(auth) = &definition.auth {
        let _ = writeln!(
            out,
            "- Authentication: `{}` (see providers/README.md)",
            auth.kind.name()
        );
    }
    if let Some(scopes) = &p.token_scopes {
        let _ = writeln!(out, "- Token permissions: {scopes}");
    }
    if let Some(notes) = &p.notes {
        let _ = writeln!(out, "- Notes: {notes}");
    }
    let _ = writeln!(
        out,
        "\n| parameter | required | secret | default | meaning |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for parameter in &definition.parameters {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            parameter.name,
            if parameter.required { "yes" } else { "no" },
            if parameter.secret { "yes" } else { "no" },
            parameter
                .default
                .as_deref()
                .map(|d| format!("`{d}`"))
                .unwrap_or_else(|| "-".into()),
            parameter.help.replace('|', "\\|").replace('\n', " ")
        );
    }
    let sets: Vec<String> = definition
        .parameters
        .iter()
        .filter(|parameter| parameter.required && parameter.default.is_none())
        .map(|parameter| {
            if parameter.secret {
                format!("--set {}=@{}.txt", parameter.name, parameter.name)
            } else {
                format!("--set {}=VALUE", parameter.name)
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "\n```sh\ncertmgr dns account create my-{} --provider {} --zone example.com {}\ncertmgr dns account test my-{}\n```\n",
        p.id,
        p.id,
        sets.join(" "),
        p.id
    );
    out
}

/// The whole catalog page: a table of contents and one section per provider.
pub fn catalog_markdown(definitions: &[Definition]) -> String {
    let mut out = String::from(
        "# DNS providers\n\n\
         Generated from `providers/*/provider.toml` by `certmgr dns provider docs`; \
         do not edit by hand. Besides these, DNS accounts can use `--provider rfc2136` \
         (`server`, `key_name`, `key_algorithm`, `key_secret`) and `--provider script` \
         (`command`, `timeout`).\n\n\
         A provider sends requests only to the hosts listed under \"Requests go to\"; \
         a URL parameter (`api_url`) adds its own host. A loopback, private or \
         link-local address (a PowerDNS on the LAN) needs the DNS account created \
         with `--allow-private-network`, a plain `http://` URL `--allow-plain-http`.\n\n",
    );
    for definition in definitions {
        let _ = writeln!(
            out,
            "- [{}](#{}) (`{}`)",
            definition.provider.name,
            anchor(&definition.provider.name, &definition.provider.id),
            definition.provider.id
        );
    }
    out.push('\n');
    for definition in definitions {
        out.push_str(&provider_markdown(definition));
    }
    out
}

/// The GitHub-style anchor of a section heading.
fn anchor(name: &str, id: &str) -> String {
    format!("{name} ({id})")
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}
