//! What a room holds, in plain Rust: chat, polls with one vote per person, and
//! the Q&A with one upvote per person. Commands are decided here; the actor
//! stores what they wrote before anyone hears about them.

use chrono::{DateTime, Utc};
use limelight_shared::ids::{SessionId, UserId};
use limelight_shared::room::{
    ChatMessage, MAX_POLL_OPTIONS, MAX_TEXT_CHARS, MESSAGES_PER_WINDOW, Moderation, NewPoll, Poll,
    PollKind, PollStatus, Question, RATE_WINDOW_S, RoomSnapshot,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};

/// Chat messages a snapshot carries (pinned ones come on top of these).
pub const SNAPSHOT_MESSAGES: usize = 100;

/// Who acts in the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Speaker {
    /// User id.
    pub user: UserId,
    /// Name shown beside what they write.
    pub username: String,
    /// Staff may moderate.
    pub moderator: bool,
}

/// A command to a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoomCommand {
    /// Say something in the chat.
    Say(String),
    /// Vote in a poll (replacing an earlier vote).
    Vote {
        /// The poll.
        poll: String,
        /// Option indexes.
        choices: Vec<u32>,
    },
    /// Ask a question.
    GetReply(String),
    /// Upvote a question.
    Upvote(String),
    /// Create a poll (moderators).
    CreatePoll(NewPoll),
    /// Open or close a poll (moderators).
    SetPollStatus {
        /// The poll.
        poll: String,
        /// Open or closed.
        status: PollStatus,
    },
    /// Delete or pin a message (moderators).
    ModerateMessage {
        /// The message.
        id: String,
        /// What to do.
        action: Moderation,
    },
    /// Pin or mark a question answered (moderators).
    ModerateQuestion {
        /// The question.
        id: String,
        /// What to do.
        action: Moderation,
    },
}

/// Why a room said no. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum RoomRefusal {
    /// Text empty or too long, bad poll options, bad choices.
    #[error("{0}")]
    Invalid(String),
    /// Too many messages in a short time.
    #[error("at most {MESSAGES_PER_WINDOW} messages every {RATE_WINDOW_S} seconds")]
    RateLimited,
    /// No such poll.
    #[error("no poll {0} in this room")]
    UnknownPoll(String),
    /// No such message.
    #[error("no message {0} in this room")]
    UnknownMessage(String),
    /// No such question.
    #[error("no question {0} in this room")]
    UnknownQuestion(String),
    /// The poll does not take votes now.
    #[error("poll {0} is not open")]
    PollClosed(String),
    /// Only moderators may do this.
    #[error("only staff may moderate a room")]
    NotModerator,
    /// The connection has not joined the session's room.
    #[error("join the room of session {0} first")]
    NotInRoom(limelight_shared::ids::SessionId),
}

/// What a command made or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoomDone {
    /// A chat message.
    Message(ChatMessage),
    /// A poll (its results are broadcast by the actor's clock).
    Poll(Poll),
    /// A vote was stored.
    Voted,
    /// A question.
    Question(Question),
}

/// A change to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomWrite {
    /// A new message.
    Message(ChatMessage),
    /// A message's flags.
    MessageFlags(ChatMessage),
    /// A new poll.
    Poll(Poll),
    /// A poll's status.
    PollStatus(String, PollStatus),
    /// A person's vote, replacing the last.
    Vote {
        /// The poll.
        poll: String,
        /// Who.
        user: UserId,
        /// Option indexes.
        choices: Vec<u32>,
    },
    /// A new question.
    Question(Question),
    /// A question's flags.
    QuestionFlags(Question),
    /// An upvote.
    Upvote {
        /// The question.
        question: String,
        /// Who.
        user: UserId,
    },
}

/// A poll with its stored votes; results are derived from them.
#[derive(Debug, Clone)]
pub struct PollState {
    /// The poll (its counts are filled in when asked).
    pub poll: Poll,
    /// One vote per person.
    pub votes: HashMap<UserId, Vec<u32>>,
    /// Votes changed since the last results broadcast.
    pub dirty: bool,
}

impl PollState {
    /// The poll with counts derived from the votes.
    pub fn results(&self) -> Poll {
        let mut poll = self.poll.clone();
        poll.counts = vec![0; poll.options.len()];
        for choices in self.votes.values() {
            for &c in choices {
                if let Some(n) = poll.counts.get_mut(c as usize) {
                    *n += 1;
                }
            }
        }
        poll.voters = self.votes.len() as u64;
        poll
    }
}

/// A question with its upvoters.
#[derive(Debug, Clone)]
pub struct QuestionState {
    /// The question (its upvotes are filled in when asked).
    pub question: Question,
    /// One upvote per person.
    pub upvoters: HashSet<UserId>,
}

impl QuestionState {
    fn shown(&self) -> Question {
        let mut q = self.question.clone();
        q.upvotes = self.upvoters.len() as u64;
        q
    }
}

/// A room's stored content.
#[derive(Debug, Clone)]
pub struct Room {
    session: SessionId,
    /// The latest messages, oldest first.
    messages: VecDeque<ChatMessage>,
    /// Pinned messages older than the latest ones.
    pinned: HashMap<String, ChatMessage>,
    /// Polls in creation order.
    polls: Vec<PollState>,
    questions: HashMap<String, QuestionState>,
    /// When each person last sent messages, for the rate limit.
    sent: HashMap<UserId, VecDeque<DateTime<Utc>>>,
    writes: Vec<RoomWrite>,
}

fn text(s: &str) -> Result<String, RoomRefusal> {
    let s = s.trim();
    let chars = s.chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS {
        return Err(RoomRefusal::Invalid(format!(
            "text must be 1-{MAX_TEXT_CHARS} characters, got {chars}"
        )));
    }
    Ok(s.to_owned())
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Room {
    /// An empty room.
    pub fn new(session: SessionId) -> Self {
        Self {
            session,
            messages: VecDeque::new(),
            pinned: HashMap::new(),
            polls: Vec::new(),
            questions: HashMap::new(),
            sent: HashMap::new(),
            writes: Vec::new(),
        }
    }

    /// Take up a stored message (at load, oldest first).
    pub fn restore_message(&mut self, m: ChatMessage) {
        self.keep(m);
    }

    /// Take up a stored poll and its votes (at load, oldest first).
    pub fn restore_poll(&mut self, poll: Poll, votes: HashMap<UserId, Vec<u32>>) {
        self.polls.push(PollState {
            poll,
            votes,
            dirty: false,
        });
    }

    /// Take up a stored question and its upvoters (at load).
    pub fn restore_question(&mut self, question: Question, upvoters: HashSet<UserId>) {
        self.questions
            .insert(question.id.clone(), QuestionState { question, upvoters });
    }

    fn keep(&mut self, m: ChatMessage) {
        self.messages.push_back(m);
        while self.messages.len() > SNAPSHOT_MESSAGES {
            if let Some(old) = self.messages.pop_front()
                && old.pinned
            {
                self.pinned.insert(old.id.clone(), old);
            }
        }
    }

    /// Decide one command at `now`. A refusal changes nothing.
    pub fn apply(
        &mut self,
        who: &Speaker,
        command: RoomCommand,
        now: DateTime<Utc>,
    ) -> Result<RoomDone, RoomRefusal> {
        let moderator = || {
            if who.moderator {
                Ok(())
            } else {
                Err(RoomRefusal::NotModerator)
            }
        };
        match command {
            RoomCommand::Say(body) => self.say(who, &body, now),
            RoomCommand::Vote { poll, choices } => self.vote(who.user, &poll, choices),
            RoomCommand::GetReply(body) => {
                let q = Question {
                    id: uuid::Uuid::new_v4().to_string(),
                    user: who.user,
                    username: who.username.clone(),
                    text: text(&body)?,
                    upvotes: 0,
                    answered: false,
                    pinned: false,
                    at: stamp(now),
                };
                self.writes.push(RoomWrite::Question(q.clone()));
                self.restore_question(q.clone(), HashSet::new());
                Ok(RoomDone::Question(q))
            }
            RoomCommand::Upvote(id) => {
                let q = self
                    .questions
                    .get_mut(&id)
                    .ok_or_else(|| RoomRefusal::UnknownQuestion(id.clone()))?;
                // A second upvote by the same person changes nothing.
                if q.upvoters.insert(who.user) {
                    self.writes.push(RoomWrite::Upvote {
                        question: id,
                        user: who.user,
                    });
                }
                Ok(RoomDone::Question(q.shown()))
            }
            RoomCommand::CreatePoll(new) => {
                moderator()?;
                self.create_poll(new)
            }
            RoomCommand::SetPollStatus { poll, status } => {
                moderator()?;
                let p = self
                    .polls
                    .iter_mut()
                    .find(|p| p.poll.id == poll)
                    .ok_or_else(|| RoomRefusal::UnknownPoll(poll.clone()))?;
                if status == PollStatus::Draft {
                    return Err(RoomRefusal::Invalid(
                        "a poll can be opened or closed, not made a draft again".into(),
                    ));
                }
                if p.poll.status != status {
                    p.poll.status = status;
                    self.writes.push(RoomWrite::PollStatus(poll, status));
                }
                Ok(RoomDone::Poll(p.results()))
            }
            RoomCommand::ModerateMessage { id, action } => {
                moderator()?;
                let m = match self.messages.iter_mut().find(|m| m.id == id) {
                    Some(m) => m,
                    None => self
                        .pinned
                        .get_mut(&id)
                        .ok_or_else(|| RoomRefusal::UnknownMessage(id.clone()))?,
                };
                match action {
                    Moderation::Delete => {
                        m.deleted = true;
                        m.pinned = false;
                        m.text.clear();
                    }
                    Moderation::Pin => m.pinned = !m.deleted,
                    Moderation::Unpin => m.pinned = false,
                    Moderation::Answered => {
                        return Err(RoomRefusal::Invalid(
                            "messages are deleted, pinned or unpinned".into(),
                        ));
                    }
                }
                let m = m.clone();
                if !m.pinned {
                    self.pinned.remove(&m.id);
                }
                self.writes.push(RoomWrite::MessageFlags(m.clone()));
                Ok(RoomDone::Message(m))
            }
            RoomCommand::ModerateQuestion { id, action } => {
                moderator()?;
                let q = self
                    .questions
                    .get_mut(&id)
                    .ok_or_else(|| RoomRefusal::UnknownQuestion(id.clone()))?;
                match action {
                    Moderation::Answered => q.question.answered = true,
                    Moderation::Pin => q.question.pinned = true,
                    Moderation::Unpin => q.question.pinned = false,
                    Moderation::Delete => {
                        return Err(RoomRefusal::Invalid(
                            "questions are pinned, unpinned or marked answered".into(),
                        ));
                    }
                }
                let shown = q.shown();
                self.writes.push(RoomWrite::QuestionFlags(shown.clone()));
                Ok(RoomDone::Question(shown))
            }
        }
    }

    fn say(
        &mut self,
        who: &Speaker,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<RoomDone, RoomRefusal> {
        let body = text(body)?;
        let window = chrono::Duration::seconds(RATE_WINDOW_S as i64);
        let sent = self.sent.entry(who.user).or_default();
        while sent.front().is_some_and(|t| *t <= now - window) {
            sent.pop_front();
        }
        if sent.len() >= MESSAGES_PER_WINDOW && !who.moderator {
            return Err(RoomRefusal::RateLimited);
        }
        sent.push_back(now);
        let m = ChatMessage {
            id: uuid::Uuid::new_v4().to_string(),
            user: who.user,
            username: who.username.clone(),
            text: body,
            pinned: false,
            deleted: false,
            at: stamp(now),
        };
        self.writes.push(RoomWrite::Message(m.clone()));
        self.keep(m.clone());
        Ok(RoomDone::Message(m))
    }

    fn vote(
        &mut self,
        user: UserId,
        poll: &str,
        mut choices: Vec<u32>,
    ) -> Result<RoomDone, RoomRefusal> {
        let p = self
            .polls
            .iter_mut()
            .find(|p| p.poll.id == poll)
            .ok_or_else(|| RoomRefusal::UnknownPoll(poll.to_owned()))?;
        if p.poll.status != PollStatus::Open {
            return Err(RoomRefusal::PollClosed(poll.to_owned()));
        }
        choices.sort_unstable();
        choices.dedup();
        let options = p.poll.options.len();
        let fits = match p.poll.kind {
            PollKind::Single => choices.len() == 1,
            PollKind::Multiple => !choices.is_empty(),
        };
        if !fits || choices.iter().any(|&c| c as usize >= options) {
            return Err(RoomRefusal::Invalid(format!(
                "choose {} of the options 0-{}",
                if p.poll.kind == PollKind::Single {
                    "one"
                } else {
                    "one or more"
                },
                options.saturating_sub(1)
            )));
        }
        if p.votes.get(&user) != Some(&choices) {
            p.votes.insert(user, choices.clone());
            p.dirty = true;
            self.writes.push(RoomWrite::Vote {
                poll: poll.to_owned(),
                user,
                choices,
            });
        }
        Ok(RoomDone::Voted)
    }

    fn create_poll(&mut self, new: NewPoll) -> Result<RoomDone, RoomRefusal> {
        let question = text(&new.question)?;
        if !(2..=MAX_POLL_OPTIONS).contains(&new.options.len()) {
            return Err(RoomRefusal::Invalid(format!(
                "a poll has 2-{MAX_POLL_OPTIONS} options, got {}",
                new.options.len()
            )));
        }
        let mut options = Vec::with_capacity(new.options.len());
        for o in &new.options {
            let o = o.trim();
            if o.is_empty() || o.chars().count() > 200 {
                return Err(RoomRefusal::Invalid(
                    "each option is 1-200 characters".into(),
                ));
            }
            options.push(o.to_owned());
        }
        let poll = Poll {
            id: uuid::Uuid::new_v4().to_string(),
            question,
            counts: vec![0; options.len()],
            options,
            kind: new.kind,
            status: if new.open {
                PollStatus::Open
            } else {
                PollStatus::Draft
            },
            voters: 0,
            seq: 0,
        };
        self.writes.push(RoomWrite::Poll(poll.clone()));
        self.restore_poll(poll.clone(), HashMap::new());
        Ok(RoomDone::Poll(poll))
    }

    /// Polls whose votes changed since the last call, with fresh results and the
    /// next sequence number.
    pub fn take_results(&mut self) -> Vec<Poll> {
        let mut changed = Vec::new();
        for p in &mut self.polls {
            if std::mem::take(&mut p.dirty) {
                p.poll.seq += 1;
                changed.push(p.results());
            }
        }
        changed
    }

    /// The changes decided since the last call, to store.
    pub fn take_writes(&mut self) -> Vec<RoomWrite> {
        std::mem::take(&mut self.writes)
    }

    /// The room as a client shows it, with `present` people in it.
    pub fn snapshot(&self, present: u64) -> RoomSnapshot {
        let mut messages: Vec<ChatMessage> = self.pinned.values().cloned().collect();
        messages.extend(self.messages.iter().cloned());
        messages.sort_by(|a, b| a.at.cmp(&b.at));
        let mut questions: Vec<Question> =
            self.questions.values().map(QuestionState::shown).collect();
        questions.sort_by(|a, b| {
            b.pinned
                .cmp(&a.pinned)
                .then(b.upvotes.cmp(&a.upvotes))
                .then(a.at.cmp(&b.at))
        });
        RoomSnapshot {
            session: self.session,
            present,
            messages,
            polls: self.polls.iter().rev().map(PollState::results).collect(),
            questions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(user: i64) -> Speaker {
        Speaker {
            user: UserId(user),
            username: format!("u{user}"),
            moderator: user == 0,
        }
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(1_800_000_000 + s)
    }

    fn new_poll(kind: PollKind) -> RoomCommand {
        RoomCommand::CreatePoll(NewPoll {
            question: "Best colour?".into(),
            options: vec!["red".into(), "green".into(), "blue".into()],
            kind,
            open: true,
        })
    }

    #[test]
    fn a_revote_replaces_the_vote_and_results_come_from_the_votes() -> Result<(), RoomRefusal> {
        let mut room = Room::new(SessionId(1));
        let RoomDone::Poll(p) = room.apply(&who(0), new_poll(PollKind::Single), t(0))? else {
            return Err(RoomRefusal::Invalid("not a poll".into()));
        };
        for user in 1..=3 {
            let vote = RoomCommand::Vote {
                poll: p.id.clone(),
                choices: vec![0],
            };
            room.apply(&who(user), vote, t(0))?;
        }
        let revote = RoomCommand::Vote {
            poll: p.id.clone(),
            choices: vec![2],
        };
        room.apply(&who(3), revote, t(1))?;
        let results = room.take_results();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].counts, vec![2, 0, 1]);
        assert_eq!((results[0].voters, results[0].seq), (3, 1));
        assert!(room.take_results().is_empty());
        let two = RoomCommand::Vote {
            poll: p.id.clone(),
            choices: vec![0, 1],
        };
        assert!(matches!(
            room.apply(&who(4), two, t(1)),
            Err(RoomRefusal::Invalid(_))
        ));
        room.apply(
            &who(0),
            RoomCommand::SetPollStatus {
                poll: p.id.clone(),
                status: PollStatus::Closed,
            },
            t(2),
        )?;
        let late = RoomCommand::Vote {
            poll: p.id,
            choices: vec![1],
        };
        assert_eq!(
            room.apply(&who(5), late, t(3)),
            Err(RoomRefusal::PollClosed(results[0].id.clone()))
        );
        Ok(())
    }

    #[test]
    fn chat_is_rate_limited_and_only_moderators_moderate() -> Result<(), RoomRefusal> {
        let mut room = Room::new(SessionId(1));
        for _ in 0..MESSAGES_PER_WINDOW {
            room.apply(&who(1), RoomCommand::Say("hi".into()), t(0))?;
        }
        assert_eq!(
            room.apply(&who(1), RoomCommand::Say("hi".into()), t(1)),
            Err(RoomRefusal::RateLimited)
        );
        let later = t(RATE_WINDOW_S as i64);
        let RoomDone::Message(m) = room.apply(&who(1), RoomCommand::Say("again".into()), later)?
        else {
            return Err(RoomRefusal::Invalid("not a message".into()));
        };
        let too_long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(matches!(
            room.apply(&who(2), RoomCommand::Say(too_long), later),
            Err(RoomRefusal::Invalid(_))
        ));
        let delete = RoomCommand::ModerateMessage {
            id: m.id.clone(),
            action: Moderation::Delete,
        };
        assert_eq!(
            room.apply(&who(2), delete.clone(), later),
            Err(RoomRefusal::NotModerator)
        );
        let RoomDone::Message(gone) = room.apply(&who(0), delete, later)? else {
            return Err(RoomRefusal::Invalid("not a message".into()));
        };
        assert!(gone.deleted && gone.text.is_empty());
        Ok(())
    }

    #[test]
    fn questions_take_one_upvote_per_person_and_sort_by_votes() -> Result<(), RoomRefusal> {
        let mut room = Room::new(SessionId(1));
        let mut ids = Vec::new();
        for user in 1..=2 {
            if let RoomDone::Question(q) = room.apply(
                &who(user),
                RoomCommand::GetReply(format!("q{user}")),
                t(user),
            )? {
                ids.push(q.id);
            }
        }
        for user in 3..=5 {
            room.apply(&who(user), RoomCommand::Upvote(ids[1].clone()), t(9))?;
        }
        let RoomDone::Question(q) =
            room.apply(&who(3), RoomCommand::Upvote(ids[1].clone()), t(9))?
        else {
            return Err(RoomRefusal::Invalid("not a question".into()));
        };
        assert_eq!(q.upvotes, 3);
        let order: Vec<String> = room
            .snapshot(0)
            .questions
            .into_iter()
            .map(|q| q.id)
            .collect();
        assert_eq!(order, vec![ids[1].clone(), ids[0].clone()]);
        room.apply(
            &who(0),
            RoomCommand::ModerateQuestion {
                id: ids[0].clone(),
                action: Moderation::Pin,
            },
            t(10),
        )?;
        assert_eq!(room.snapshot(0).questions[0].id, ids[0]);
        Ok(())
    }
}
