//! A room's rows: loading a room, and storing what one batch of commands wrote in
//! one transaction.

use super::state::{Room, RoomWrite};
use crate::store::schema::{poll_votes, polls, question_votes, questions, room_messages};
use crate::store::{Store, StoreError, rfc3339, with_conn};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, RunQueryDsl};
use limelight_shared::ids::{SessionId, UserId};
use limelight_shared::room::{ChatMessage, Poll, PollKind, PollStatus, Question};
use std::collections::{HashMap, HashSet};

fn parse_time(s: &str) -> NaiveDateTime {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .unwrap_or_default()
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn kind_str(k: PollKind) -> &'static str {
    match k {
        PollKind::Single => "single",
        PollKind::Multiple => "multiple",
    }
}

fn status_str(s: PollStatus) -> &'static str {
    match s {
        PollStatus::Draft => "draft",
        PollStatus::Open => "open",
        PollStatus::Closed => "closed",
    }
}

fn parse_status(s: &str) -> Result<PollStatus, StoreError> {
    match s {
        "draft" => Ok(PollStatus::Draft),
        "open" => Ok(PollStatus::Open),
        "closed" => Ok(PollStatus::Closed),
        other => Err(corrupt(format!("poll status {other:?}"))),
    }
}

type MessageRow = (String, i64, String, String, bool, bool, NaiveDateTime);
type PollRow = (String, String, String, String, String);
type QuestionRow = (String, i64, String, String, bool, bool, NaiveDateTime);

/// Load a room: its latest messages and the pinned ones, every poll with its
/// votes, every question with its upvoters.
pub async fn load(store: &Store, session: SessionId) -> Result<Room, StoreError> {
    let mut room = Room::new(session);
    let (messages, polls, votes, questions, upvotes) = with_conn!(store, |conn| {
        let mut messages: Vec<MessageRow> = room_messages::table
            .filter(room_messages::session_id.eq(session.0))
            .order(room_messages::created_at.desc())
            .limit(super::state::SNAPSHOT_MESSAGES as i64)
            .select((
                room_messages::id,
                room_messages::user_id,
                room_messages::username,
                room_messages::body,
                room_messages::pinned,
                room_messages::deleted,
                room_messages::created_at,
            ))
            .load(conn)
            .await?;
        let pinned: Vec<MessageRow> = room_messages::table
            .filter(room_messages::session_id.eq(session.0))
            .filter(room_messages::pinned.eq(true))
            .select((
                room_messages::id,
                room_messages::user_id,
                room_messages::username,
                room_messages::body,
                room_messages::pinned,
                room_messages::deleted,
                room_messages::created_at,
            ))
            .load(conn)
            .await?;
        let recent: HashSet<String> = messages.iter().map(|m| m.0.clone()).collect();
        messages.extend(pinned.into_iter().filter(|m| !recent.contains(&m.0)));
        messages.sort_by_key(|m| m.6);
        let poll_rows: Vec<PollRow> = polls::table
            .filter(polls::session_id.eq(session.0))
            .order(polls::created_at.asc())
            .select((
                polls::id,
                polls::question,
                polls::options,
                polls::kind,
                polls::status,
            ))
            .load(conn)
            .await?;
        let votes: Vec<(String, i64, String)> = poll_votes::table
            .inner_join(polls::table)
            .filter(polls::session_id.eq(session.0))
            .select((
                poll_votes::poll_id,
                poll_votes::user_id,
                poll_votes::choices,
            ))
            .load(conn)
            .await?;
        let question_rows: Vec<QuestionRow> = questions::table
            .filter(questions::session_id.eq(session.0))
            .select((
                questions::id,
                questions::user_id,
                questions::username,
                questions::body,
                questions::answered,
                questions::pinned,
                questions::created_at,
            ))
            .load(conn)
            .await?;
        let upvotes: Vec<(String, i64)> = question_votes::table
            .inner_join(questions::table)
            .filter(questions::session_id.eq(session.0))
            .select((question_votes::question_id, question_votes::user_id))
            .load(conn)
            .await?;
        Ok::<_, StoreError>((messages, poll_rows, votes, question_rows, upvotes))
    })?;
    for (id, user, username, text, pinned, deleted, at) in messages {
        room.restore_message(ChatMessage {
            id,
            user: UserId(user),
            username,
            text,
            pinned,
            deleted,
            at: rfc3339(at),
        });
    }
    let mut by_poll: HashMap<String, HashMap<UserId, Vec<u32>>> = HashMap::new();
    for (poll, user, choices) in votes {
        let choices: Vec<u32> = serde_json::from_str(&choices).map_err(corrupt)?;
        by_poll
            .entry(poll)
            .or_default()
            .insert(UserId(user), choices);
    }
    for (id, question, options, kind, status) in polls {
        let options: Vec<String> = serde_json::from_str(&options).map_err(corrupt)?;
        let poll = Poll {
            counts: vec![0; options.len()],
            options,
            question,
            kind: if kind == "multiple" {
                PollKind::Multiple
            } else {
                PollKind::Single
            },
            status: parse_status(&status)?,
            voters: 0,
            seq: 0,
            id: id.clone(),
        };
        room.restore_poll(poll, by_poll.remove(&id).unwrap_or_default());
    }
    let mut by_question: HashMap<String, HashSet<UserId>> = HashMap::new();
    for (q, user) in upvotes {
        by_question.entry(q).or_default().insert(UserId(user));
    }
    for (id, user, username, text, answered, pinned, at) in questions {
        let upvoters = by_question.remove(&id).unwrap_or_default();
        room.restore_question(
            Question {
                id,
                user: UserId(user),
                username,
                text,
                upvotes: 0,
                answered,
                pinned,
                at: rfc3339(at),
            },
            upvoters,
        );
    }
    Ok(room)
}

/// Store one batch's writes in one transaction.
pub async fn save(
    store: &Store,
    session: SessionId,
    writes: Vec<RoomWrite>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if writes.is_empty() {
        return Ok(());
    }
    // A person's last vote in a poll is the one kept.
    let mut last_vote: HashMap<(String, UserId), usize> = HashMap::new();
    for (i, w) in writes.iter().enumerate() {
        if let RoomWrite::Vote { poll, user, .. } = w {
            last_vote.insert((poll.clone(), *user), i);
        }
    }
    let now = now.naive_utc();
    with_conn!(store, |conn| {
        conn.transaction::<(), StoreError, _>(async move |conn| {
            for (i, w) in writes.into_iter().enumerate() {
                match w {
                    RoomWrite::Message(m) => {
                        diesel::insert_into(room_messages::table)
                            .values((
                                room_messages::id.eq(&m.id),
                                room_messages::session_id.eq(session.0),
                                room_messages::user_id.eq(m.user.0),
                                room_messages::username.eq(&m.username),
                                room_messages::body.eq(&m.text),
                                room_messages::created_at.eq(parse_time(&m.at)),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    RoomWrite::MessageFlags(m) => {
                        diesel::update(room_messages::table.find(&m.id))
                            .set((
                                room_messages::body.eq(&m.text),
                                room_messages::pinned.eq(m.pinned),
                                room_messages::deleted.eq(m.deleted),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    RoomWrite::Poll(p) => {
                        let options = serde_json::to_string(&p.options).map_err(corrupt)?;
                        diesel::insert_into(polls::table)
                            .values((
                                polls::id.eq(&p.id),
                                polls::session_id.eq(session.0),
                                polls::question.eq(&p.question),
                                polls::options.eq(options),
                                polls::kind.eq(kind_str(p.kind)),
                                polls::status.eq(status_str(p.status)),
                                polls::created_at.eq(now),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    RoomWrite::PollStatus(id, status) => {
                        diesel::update(polls::table.find(&id))
                            .set(polls::status.eq(status_str(status)))
                            .execute(conn)
                            .await?;
                    }
                    RoomWrite::Vote {
                        poll,
                        user,
                        choices,
                    } => {
                        if last_vote.get(&(poll.clone(), user)) != Some(&i) {
                            continue;
                        }
                        let choices = serde_json::to_string(&choices).map_err(corrupt)?;
                        diesel::insert_into(poll_votes::table)
                            .values((
                                poll_votes::poll_id.eq(&poll),
                                poll_votes::user_id.eq(user.0),
                                poll_votes::choices.eq(&choices),
                                poll_votes::voted_at.eq(now),
                            ))
                            .on_conflict((poll_votes::poll_id, poll_votes::user_id))
                            .do_update()
                            .set((
                                poll_votes::choices.eq(excluded(poll_votes::choices)),
                                poll_votes::voted_at.eq(excluded(poll_votes::voted_at)),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    RoomWrite::Question(q) => {
                        diesel::insert_into(questions::table)
                            .values((
                                questions::id.eq(&q.id),
                                questions::session_id.eq(session.0),
                                questions::user_id.eq(q.user.0),
                                questions::username.eq(&q.username),
                                questions::body.eq(&q.text),
                                questions::created_at.eq(parse_time(&q.at)),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    RoomWrite::QuestionFlags(q) => {
                        diesel::update(questions::table.find(&q.id))
                            .set((
                                questions::answered.eq(q.answered),
                                questions::pinned.eq(q.pinned),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    RoomWrite::Upvote { question, user } => {
                        diesel::insert_into(question_votes::table)
                            .values((
                                question_votes::question_id.eq(&question),
                                question_votes::user_id.eq(user.0),
                            ))
                            .on_conflict_do_nothing()
                            .execute(conn)
                            .await?;
                    }
                }
            }
            Ok(())
        })
        .await
    })
}
