// @generated automatically by Diesel CLI.

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
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(emergency_states -> canvases (canvas_id));
diesel::joinable!(schedule_overrides -> canvases (canvas_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_log,
    canvases,
    cue_lists,
    emergency_states,
    scenes,
    schedule_overrides,
    schedules,
    settings,
    users,
);
