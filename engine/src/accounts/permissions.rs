//! Who may do what: the permission table, and the one rule of who is staff.
//!
//! | permission | admin | operator | marketing | attendee |
//! |---|---|---|---|---|
//! | `ManageUsers`: users CRUD | yes | | | |
//! | `ManageSystem`: canvases create/update/delete, audit log | yes | | | |
//! | `LiveControl`: scene, blackout, masters, emergency, grand master | yes | yes | | |
//! | `EditScenes`: scenes create/update/delete | yes | | yes | |
//! | `EditSchedule`: schedule entries | yes | | yes | |
//! | `ManageContent`: uploads, assets and their versions | yes | | yes | |
//! | `Approve`: approve, reject, roll back content | yes | approvers | approvers | |
//! | `ManageEvents`: venues, events, sessions, incidents, a session's bookings | yes | yes | yes | |
//! | `Read`: canvases, live state, scenes, incidents, WebSocket | yes | yes | yes | |
//! | `Browse`: venues, published events and sessions, availability | yes | yes | yes | yes |
//! | `Book`: hold, confirm, release, book, cancel one's own | yes | yes | yes | yes |
//!
//! Staff are the roles that run the venue (admin, operator, marketing): they see
//! unpublished events, moderate rooms, and manage anyone's bookings and waitlist places.

use super::Principal;
use limelight_shared::users::Role;

/// Something a role may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create, change and remove users.
    ManageUsers,
    /// Configure canvases; read the audit log.
    ManageSystem,
    /// Change what canvases show.
    LiveControl,
    /// Write scenes.
    EditScenes,
    /// Write schedule entries.
    EditSchedule,
    /// Upload content and add versions to assets.
    ManageContent,
    /// Approve, reject and roll back content: admins, and users made approvers.
    Approve,
    /// Read canvases, state and scenes.
    Read,
    /// Write venues, events, sessions and incidents; see any session's bookings.
    ManageEvents,
    /// Read venues and published events and sessions.
    Browse,
    /// Hold and book places; release and cancel one's own.
    Book,
}

/// Whether `role` has `permission`: the table above, in code.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Admin => true,
        Role::Operator => matches!(
            permission,
            LiveControl | Read | ManageEvents | Browse | Book
        ),
        Role::Marketing => matches!(
            permission,
            EditScenes | EditSchedule | ManageContent | Read | ManageEvents | Browse | Book
        ),
        Role::Attendee => matches!(permission, Browse | Book),
    }
}

impl Principal {
    /// Whether this principal's role has `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        allows(self.role, permission) || (permission == Permission::Approve && self.approver)
    }

    /// Whether this principal is staff (see the module doc).
    pub fn is_staff(&self) -> bool {
        self.may(Permission::ManageEvents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_table_holds() {
        use Permission::*;
        for p in [ManageUsers, ManageSystem, LiveControl, EditScenes, Read] {
            assert!(allows(Role::Admin, p));
        }
        assert!(allows(Role::Operator, LiveControl));
        assert!(!allows(Role::Operator, EditScenes));
        assert!(!allows(Role::Operator, ManageUsers));
        assert!(allows(Role::Marketing, EditScenes));
        assert!(!allows(Role::Marketing, LiveControl));
        assert!(!allows(Role::Marketing, ManageSystem));
    }

    #[test]
    fn staff_are_the_roles_that_run_the_venue() {
        let who = |role| Principal {
            id: limelight_shared::ids::UserId(1),
            username: "u".into(),
            role,
            approver: false,
        };
        for role in [Role::Admin, Role::Operator, Role::Marketing] {
            assert!(who(role).is_staff(), "{role:?}");
        }
        assert!(!who(Role::Attendee).is_staff());
    }
}
