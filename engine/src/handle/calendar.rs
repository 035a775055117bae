//! Venues, events, sessions and incidents: staff write them, everyone reads
//! (attendees only what is published).

use super::*;
use crate::CalendarError;
use crate::calendar::{
    check_event, check_session, check_venue, event_dto, event_row, incident_dto, incident_row,
    session_dto, session_row, venue_dto, venue_row,
};
use limelight_shared::events::{
    EVENT_SORTS, Event, EventFilter, EventSpec, EventStatus, INCIDENT_SORTS, Incident,
    IncidentFilter, IncidentSpec, Paging, SESSION_SORTS, Session, SessionSpec, VENUE_SORTS, Venue,
    VenueSpec,
};
use limelight_shared::ids::{EventId, IncidentId, SessionId, VenueId};

/// A page of DTOs from a page of rows.
fn page<R, T>(
    rows: store::Rows<R>,
    paging: &Paging,
    dto: impl Fn(&R) -> Result<T, EngineError>,
) -> Result<Page<T>, EngineError> {
    Ok(Page {
        items: rows.items.iter().map(dto).collect::<Result<_, _>>()?,
        page: paging.page,
        limit: paging.limit,
        total: rows.total,
    })
}

fn sort<'a>(
    paging: &Paging,
    allowed: &[&'a str],
    default: &'a str,
) -> Result<(&'a str, bool), EngineError> {
    paging
        .sort_by(allowed, default)
        .map_err(|e| EngineError::invalid(e.to_string()))
}

impl EngineHandle {
    /// Running ledgers answer from the new terms (other processes' ledgers see the
    /// bumped version at their next batch).
    fn reload_ledgers(&self, session: Option<SessionId>) {
        self.inner
            .sessions
            .do_send(crate::session::directory::ReloadLedgers(session));
    }

    /// A page of venues.
    pub async fn list_venues(&self, paging: &Paging) -> Result<Page<Venue>, EngineError> {
        let sort = sort(paging, VENUE_SORTS, "name")?;
        let rows = self.inner.store.list_venues(paging, sort).await?;
        page(rows, paging, venue_dto)
    }

    /// Add a venue.
    pub async fn create_venue(&self, spec: VenueSpec) -> Result<Venue, EngineError> {
        check_venue(&spec)?;
        let row = venue_row(VenueId(0), &spec, store::now());
        venue_dto(&self.inner.store.insert_venue(&row).await?)
    }

    /// A venue.
    pub async fn venue(&self, id: VenueId) -> Result<Venue, EngineError> {
        let row = self.inner.store.venue(id.0).await?;
        venue_dto(&row.ok_or(EngineError::Calendar(CalendarError::UnknownVenue(id)))?)
    }

    /// Replace a venue.
    pub async fn update_venue(&self, id: VenueId, spec: VenueSpec) -> Result<Venue, EngineError> {
        check_venue(&spec)?;
        let old = self.venue(id).await?;
        let created = chrono::DateTime::parse_from_rfc3339(&old.created_at)
            .map(|t| t.naive_utc())
            .unwrap_or_else(|_| store::now());
        let row = venue_row(id, &spec, created);
        let row = self.inner.store.update_venue(&row).await?;
        venue_dto(&row.ok_or(EngineError::Calendar(CalendarError::UnknownVenue(id)))?)
    }

    /// Remove a venue that has no events.
    pub async fn delete_venue(&self, id: VenueId) -> Result<(), EngineError> {
        match self.inner.store.delete_venue(id.0).await? {
            true => Ok(()),
            false => Err(EngineError::Calendar(CalendarError::UnknownVenue(id))),
        }
    }

    /// A page of events; `published_only` for attendees (active and cancelled
    /// events, never drafts).
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        paging: &Paging,
        published_only: bool,
    ) -> Result<Page<Event>, EngineError> {
        let sort = sort(paging, EVENT_SORTS, "starts_at")?;
        if published_only && filter.status == Some(EventStatus::Draft) {
            return Ok(Page {
                items: Vec::new(),
                page: paging.page,
                limit: paging.limit,
                total: 0,
            });
        }
        let rows = self
            .inner
            .store
            .list_events(filter, paging, sort, published_only)
            .await?;
        page(rows, paging, event_dto)
    }

    async fn check_event_refs(&self, spec: &EventSpec) -> Result<(), EngineError> {
        check_event(spec)?;
        if self.inner.store.venue(spec.venue.0).await?.is_none() {
            return Err(EngineError::Calendar(CalendarError::UnknownVenue(
                spec.venue,
            )));
        }
        Ok(())
    }

    /// Add an event.
    /// An active emergency raises a system alert.
    pub async fn create_event(
        &self,
        who: &Principal,
        spec: EventSpec,
    ) -> Result<Event, EngineError> {
        self.check_event_refs(&spec).await?;
        let row = event_row(EventId(0), &spec, store::now());
        let event = event_dto(&self.inner.store.insert_event(&row).await?)?;
        self.event_alert(who, None, &event).await;
        Ok(event)
    }

    /// An event; a draft is unknown to attendees.
    pub async fn event(&self, id: EventId, published_only: bool) -> Result<Event, EngineError> {
        let row = self.inner.store.event(id.0).await?;
        let row = row
            .filter(|r| !published_only || r.status != "draft")
            .ok_or(EngineError::Calendar(CalendarError::UnknownEvent(id)))?;
        event_dto(&row)
    }

    /// Replace an event. Its sessions' ledgers take up a change of status at their
    /// next batch (a cancelled event takes no more bookings).
    /// An event that becomes an active emergency raises a system alert.
    pub async fn update_event(
        &self,
        who: &Principal,
        id: EventId,
        spec: EventSpec,
    ) -> Result<Event, EngineError> {
        self.check_event_refs(&spec).await?;
        let old = self
            .inner
            .store
            .event(id.0)
            .await?
            .ok_or(EngineError::Calendar(CalendarError::UnknownEvent(id)))?;
        let before = event_dto(&old)?;
        let row = event_row(id, &spec, old.created_at);
        let row = self.inner.store.update_event(&row).await?;
        self.reload_ledgers(None);
        let event = event_dto(&row.ok_or(EngineError::Calendar(CalendarError::UnknownEvent(id)))?)?;
        self.event_alert(who, Some(&before), &event).await;
        Ok(event)
    }

    /// Remove an event and its sessions, unless a session has live bookings.
    pub async fn delete_event(&self, id: EventId) -> Result<(), EngineError> {
        match self.inner.store.delete_event(id.0).await? {
            true => Ok(()),
            false => Err(EngineError::Calendar(CalendarError::UnknownEvent(id))),
        }
    }

    /// A page of an event's sessions.
    pub async fn list_sessions(
        &self,
        event: EventId,
        paging: &Paging,
        published_only: bool,
    ) -> Result<Page<Session>, EngineError> {
        self.event(event, published_only).await?;
        let sort = sort(paging, SESSION_SORTS, "starts_at")?;
        let rows = self
            .inner
            .store
            .list_sessions(event.0, paging, sort)
            .await?;
        page(rows, paging, session_dto)
    }

    /// Add a session to an event.
    pub async fn create_session(
        &self,
        event: EventId,
        spec: SessionSpec,
    ) -> Result<Session, EngineError> {
        let capacity = check_session(&spec)?;
        self.event(event, false).await?;
        let row = session_row(SessionId(0), event, &spec, capacity, store::now());
        session_dto(&self.inner.store.insert_session(&row).await?)
    }

    /// A session; one of a draft event is unknown to attendees.
    pub async fn session(
        &self,
        id: SessionId,
        published_only: bool,
    ) -> Result<Session, EngineError> {
        let row = self
            .inner
            .store
            .session(id.0)
            .await?
            .ok_or(EngineError::Calendar(CalendarError::UnknownSession(id)))?;
        if published_only {
            self.event(EventId(row.event_id), true)
                .await
                .map_err(|_| EngineError::Calendar(CalendarError::UnknownSession(id)))?;
        }
        session_dto(&row)
    }

    /// Replace a session. Its ledger takes the new terms up at its next batch; the
    /// capacity cannot drop below what is held and booked, and the seat map cannot
    /// change while seats are claimed (409).
    pub async fn update_session(
        &self,
        id: SessionId,
        spec: SessionSpec,
    ) -> Result<Session, EngineError> {
        let capacity = check_session(&spec)?;
        let old = self
            .inner
            .store
            .session(id.0)
            .await?
            .ok_or(EngineError::Calendar(CalendarError::UnknownSession(id)))?;
        let row = session_row(id, EventId(old.event_id), &spec, capacity, old.created_at);
        let row = self.inner.store.update_session(&row).await?;
        self.reload_ledgers(Some(id));
        session_dto(&row.ok_or(EngineError::Calendar(CalendarError::UnknownSession(id)))?)
    }

    /// Remove a session that has no live holds or bookings.
    pub async fn delete_session(&self, id: SessionId) -> Result<(), EngineError> {
        match self.inner.store.delete_session(id.0).await? {
            true => Ok(()),
            false => Err(EngineError::Calendar(CalendarError::UnknownSession(id))),
        }
    }

    /// A page of incidents.
    pub async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        paging: &Paging,
    ) -> Result<Page<Incident>, EngineError> {
        let sort = sort(paging, INCIDENT_SORTS, "created_at")?;
        let rows = self
            .inner
            .store
            .list_incidents(filter, paging, sort)
            .await?;
        page(rows, paging, incident_dto)
    }

    async fn check_incident_refs(&self, spec: &IncidentSpec) -> Result<(), EngineError> {
        if let Some(e) = spec.event
            && self.inner.store.event(e.0).await?.is_none()
        {
            return Err(EngineError::Calendar(CalendarError::UnknownEvent(e)));
        }
        Ok(())
    }

    /// Report an incident; a critical one raises a system alert.
    pub async fn create_incident(
        &self,
        who: &Principal,
        spec: IncidentSpec,
    ) -> Result<Incident, EngineError> {
        self.check_incident_refs(&spec).await?;
        let row = incident_row(IncidentId(0), &spec, store::now());
        let incident = incident_dto(&self.inner.store.insert_incident(&row).await?)?;
        self.incident_alert(who, None, &incident).await;
        Ok(incident)
    }

    /// An incident.
    pub async fn incident(&self, id: IncidentId) -> Result<Incident, EngineError> {
        let row = self.inner.store.incident(id.0).await?;
        incident_dto(&row.ok_or(EngineError::Calendar(CalendarError::UnknownIncident(id)))?)
    }

    /// Replace an incident; one that becomes critical raises a system alert.
    pub async fn update_incident(
        &self,
        who: &Principal,
        id: IncidentId,
        spec: IncidentSpec,
    ) -> Result<Incident, EngineError> {
        self.check_incident_refs(&spec).await?;
        let old = self
            .inner
            .store
            .incident(id.0)
            .await?
            .ok_or(EngineError::Calendar(CalendarError::UnknownIncident(id)))?;
        let before = incident_dto(&old)?;
        let row = incident_row(id, &spec, old.created_at);
        let row = self.inner.store.update_incident(&row).await?;
        let incident =
            incident_dto(&row.ok_or(EngineError::Calendar(CalendarError::UnknownIncident(id)))?)?;
        self.incident_alert(who, Some(&before), &incident).await;
        Ok(incident)
    }

    /// Remove an incident.
    pub async fn delete_incident(&self, id: IncidentId) -> Result<(), EngineError> {
        match self.inner.store.delete_incident(id.0).await? {
            true => Ok(()),
            false => Err(EngineError::Calendar(CalendarError::UnknownIncident(id))),
        }
    }
}
