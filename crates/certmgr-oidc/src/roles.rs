//! Groups to role: the highest role any of the user's groups maps to.

use std::collections::BTreeMap;

use certmgr_core::Role;

/// How much a role may do, for "highest role wins". Admin can do everything
/// an operator can, an operator everything a viewer can.
fn rank(role: Role) -> u8 {
    match role {
        Role::Viewer => 1,
        Role::Operator => 2,
        Role::Admin => 3,
    }
}

/// The highest role that `group_roles` gives any of `groups`, or `None` when
/// no group is mapped. Group names are compared exactly (case-sensitive), as
/// providers treat them.
pub fn role_for_groups(group_roles: &BTreeMap<String, Role>, groups: &[String]) -> Option<Role> {
    groups
        .iter()
        .filter_map(|group| group_roles.get(group).copied())
        .max_by_key(|role| rank(*role))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> BTreeMap<String, Role> {
        BTreeMap::from([
            ("viewers".to_owned(), Role::Viewer),
            ("ops".to_owned(), Role::Operator),
            ("admins".to_owned(), Role::Admin),
        ])
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn highest_role_wins_in_any_order() {
        assert_eq!(
            role_for_groups(&map(), &groups(&["viewers", "admins", "ops"])),
            Some(Role::Admin)
        );
        assert_eq!(
            role_for_groups(&map(), &groups(&["ops", "viewers"])),
            Some(Role::Operator)
        );
        assert_eq!(
            role_for_groups(&map(), &groups(&["other", "viewers"])),
            Some(Role::Viewer)
        );
    }

    #[test]
    fn no_mapped_group_is_no_role() {
        assert_eq!(role_for_groups(&map(), &groups(&[])), None);
        assert_eq!(role_for_groups(&map(), &groups(&["Admins", "staff"])), None);
    }
}
