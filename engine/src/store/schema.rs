// @generated automatically by Diesel CLI.

diesel::table! {
    asset_versions (id) {
        id -> Int8,
        asset_id -> Int8,
        version -> Int4,
        kind -> Text,
        media_type -> Text,
        size -> Int8,
        sha256 -> Text,
        width -> Int4,
        height -> Int4,
        duration_ms -> Nullable<Int8>,
        fps -> Nullable<Float8>,
        uploaded_by -> Int8,
        uploaded_at -> Timestamp,
        status -> Text,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Int8>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    assets (id) {
        id -> Int8,
        name -> Text,
        created_by -> Int8,
        created_at -> Timestamp,
        live_version -> Nullable<Int4>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamp,
        username -> Text,
        action -> Text,
        target -> Text,
        detail -> Text,
        outcome -> Text,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    bookings (id) {
        id -> Text,
        session_id -> Int8,
        user_id -> Int8,
        state -> Text,
        quantity -> Int4,
        seats -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    canvases (id) {
        id -> Int8,
        name -> Text,
        spec -> Text,
        cid -> Text,
        live_scene -> Nullable<Text>,
        live_master -> Float8,
        live_blackout -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        live_cues -> Nullable<Text>,
    }
}

diesel::table! {
    celebrations (id) {
        id -> Int8,
        name -> Text,
        spec -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    cue_lists (id) {
        id -> Int8,
        name -> Text,
        spec -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    emergency_states (canvas_id) {
        canvas_id -> Int8,
        active -> Bool,
        changed_by -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Int8,
        venue_id -> Int8,
        name -> Text,
        kind -> Text,
        status -> Text,
        priority -> Text,
        location -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        metadata -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (session_id, user_id, key) {
        session_id -> Int8,
        user_id -> Int8,
        key -> Text,
        request -> Text,
        status -> Int4,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    incidents (id) {
        id -> Int8,
        event_id -> Nullable<Int8>,
        title -> Text,
        description -> Text,
        status -> Text,
        priority -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inputs (id) {
        id -> Int8,
        name -> Text,
        spec -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    nodes (id) {
        id -> Text,
        name -> Text,
        http_addr -> Text,
        started_at -> Timestamp,
        seen_at -> Timestamp,
        leader -> Bool,
    }
}

diesel::table! {
    poll_votes (poll_id, user_id) {
        poll_id -> Text,
        user_id -> Int8,
        choices -> Text,
        voted_at -> Timestamp,
    }
}

diesel::table! {
    polls (id) {
        id -> Text,
        session_id -> Int8,
        question -> Text,
        options -> Text,
        kind -> Text,
        status -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    question_votes (question_id, user_id) {
        question_id -> Text,
        user_id -> Int8,
    }
}

diesel::table! {
    questions (id) {
        id -> Text,
        session_id -> Int8,
        user_id -> Int8,
        username -> Text,
        body -> Text,
        answered -> Bool,
        pinned -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    revoked_tokens (id) {
        id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    room_messages (id) {
        id -> Text,
        session_id -> Int8,
        user_id -> Int8,
        username -> Text,
        body -> Text,
        pinned -> Bool,
        deleted -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    scenes (id) {
        id -> Int8,
        name -> Text,
        spec -> Text,
        origin -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    schedule_overrides (canvas_id) {
        canvas_id -> Int8,
        play -> Text,
        scope -> Text,
        taken_by -> Text,
        since -> Timestamp,
    }
}

diesel::table! {
    schedules (id) {
        id -> Int8,
        name -> Text,
        spec -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    seat_claims (session_id, seat) {
        session_id -> Int8,
        seat -> Text,
        booking_id -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Int8,
        event_id -> Int8,
        title -> Text,
        room -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        capacity -> Int4,
        seat_map -> Nullable<Text>,
        per_user_limit -> Nullable<Int4>,
        hold_ttl_s -> Int4,
        waitlist_order -> Text,
        ledger_version -> Int8,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    templates (id) {
        id -> Int8,
        name -> Text,
        spec -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        owner -> Int8,
        length -> Int8,
        received -> Int8,
        metadata -> Text,
        target_asset -> Nullable<Int8>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        asset_id -> Nullable<Int8>,
        version -> Nullable<Int4>,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        approver -> Bool,
    }
}

diesel::table! {
    venues (id) {
        id -> Int8,
        name -> Text,
        address -> Text,
        timezone -> Text,
        emergency_canvases -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    waitlist_entries (id) {
        id -> Text,
        session_id -> Int8,
        user_id -> Int8,
        tier -> Text,
        party -> Int4,
        seq -> Int8,
        state -> Text,
        offer_id -> Nullable<Text>,
        joined_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(asset_versions -> assets (asset_id));
diesel::joinable!(bookings -> sessions (session_id));
diesel::joinable!(emergency_states -> canvases (canvas_id));
diesel::joinable!(events -> venues (venue_id));
diesel::joinable!(idempotency_keys -> sessions (session_id));
diesel::joinable!(incidents -> events (event_id));
diesel::joinable!(poll_votes -> polls (poll_id));
diesel::joinable!(polls -> sessions (session_id));
diesel::joinable!(question_votes -> questions (question_id));
diesel::joinable!(questions -> sessions (session_id));
diesel::joinable!(room_messages -> sessions (session_id));
diesel::joinable!(schedule_overrides -> canvases (canvas_id));
diesel::joinable!(seat_claims -> bookings (booking_id));
diesel::joinable!(seat_claims -> sessions (session_id));
diesel::joinable!(sessions -> events (event_id));
diesel::joinable!(waitlist_entries -> bookings (offer_id));
diesel::joinable!(waitlist_entries -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    asset_versions,
    assets,
    audit_log,
    bookings,
    canvases,
    celebrations,
    cue_lists,
    emergency_states,
    events,
    idempotency_keys,
    incidents,
    inputs,
    nodes,
    poll_votes,
    polls,
    question_votes,
    questions,
    revoked_tokens,
    room_messages,
    scenes,
    schedule_overrides,
    schedules,
    seat_claims,
    sessions,
    settings,
    templates,
    uploads,
    users,
    venues,
    waitlist_entries,
);
