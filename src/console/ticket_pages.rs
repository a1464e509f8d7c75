//! The console's tickets page: tickets filtered by agency and state, late ones first, each with
//! its history; staff reroute a rejected ticket, reopen a resolved one, correct any ticket's
//! place, and decide on held agency notes.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::PageSession;
use super::pages::{layout, must_change, refuse_form};
use super::{AppState, esc};

#[derive(Deserialize, Default)]
pub struct TicketFilter {
    agency: Option<String>,
    state: Option<String>,
}

/// The tickets page: filter by agency and state, overdue first, each with its history.
pub async fn tickets(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(filter): Query<TicketFilter>,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let Some(tickets) = &state.tickets else {
        return layout("Laporan", Some(&session), None, "<p>Tiket tidak aktif.</p>")
            .into_response();
    };
    let agency = filter.agency.as_deref().filter(|a| !a.is_empty());
    let which = filter
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("active");
    let list = match tickets.list(state.desk.store(), agency, Some(which)).await {
        Ok(l) => l,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let mut options = String::from("<option value=\"\">semua instansi</option>");
    for a in tickets.config.agencies.iter().filter(|a| a.tickets) {
        options.push_str(&format!(
            "<option value=\"{id}\"{sel}>{name}</option>",
            id = esc(&a.id),
            sel = if agency == Some(a.id.as_str()) {
                " selected"
            } else {
                ""
            },
            name = esc(&a.short_name)
        ));
    }
    let mut states = String::new();
    for (value, label) in [
        ("active", "belum selesai"),
        ("open", "baru"),
        ("acknowledged", "diterima"),
        ("in_progress", "diproses"),
        ("resolved", "selesai"),
        ("rejected", "bukan wewenang"),
    ] {
        states.push_str(&format!(
            "<option value=\"{value}\"{}>{label}</option>",
            if which == value { " selected" } else { "" }
        ));
    }
    let mut rows = String::new();
    for t in &list {
        let history = tickets
            .history(state.desk.store(), &t.number)
            .await
            .unwrap_or_default()
            .iter()
            .map(|(at, s, by, note)| {
                format!(
                    "<li>{} · {} · {}{}</li>",
                    esc(&super::wib_time(*at)),
                    esc(crate::tickets::TicketState::parse(s)
                        .map(|s| s.label())
                        .unwrap_or(s)),
                    esc(by),
                    if note.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", esc(note))
                    }
                )
            })
            .collect::<String>();
        let reroute = if t.state == crate::tickets::TicketState::Rejected {
            let mut choices = String::new();
            for a in tickets
                .config
                .agencies
                .iter()
                .filter(|a| a.tickets && a.id != t.agency)
            {
                choices.push_str(&format!(
                    "<option value=\"{}\">{}</option>",
                    esc(&a.id),
                    esc(&a.short_name)
                ));
            }
            format!(
                "<form method=\"post\" action=\"/tickets/{number}/reroute\" \
                 data-confirm=\"Alihkan laporan {number} ke instansi yang dipilih? Instansi itu \
                 menerima pesan baru dan warga diberi tahu.\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <select name=\"agency\">{choices}</select> <button type=\"submit\">Alihkan</button></form>",
                number = esc(&t.number),
                csrf = esc(&session.csrf),
            )
        } else if t.state == crate::tickets::TicketState::Resolved {
            format!(
                "<form method=\"post\" action=\"/tickets/{number}/reopen\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input name=\"note\" required placeholder=\"alasan, mis. warga: belum beres\"> \
                 <button type=\"submit\">Buka kembali</button></form>",
                number = esc(&t.number),
                csrf = esc(&session.csrf),
            )
        } else {
            String::new()
        };
        // Staff correct the place whatever the state: the agency's message follows.
        let place = format!(
            "<form method=\"post\" action=\"/tickets/{number}/place\" class=\"place\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input name=\"place\" required maxlength=\"{max}\" value=\"{location}\" \
             aria-label=\"Lokasi laporan {number}\" placeholder=\"nama jalan, kelurahan\"> \
             <button type=\"submit\">Ubah lokasi</button></form>",
            number = esc(&t.number),
            csrf = esc(&session.csrf),
            max = crate::tickets::place::PLACE_MAX_CHARS,
            location = esc(t.location.as_deref().unwrap_or("")),
        );
        rows.push_str(&format!(
            "<tr class=\"{class}\"><td data-label=\"Nomor\">{late}{number}{reroute}</td>\
             <td data-label=\"Instansi\">{agency}</td><td data-label=\"Status\">{state}</td>\
             <td data-label=\"Laporan\">{text}<br><small>{location}</small>{place}</td>\
             <td data-label=\"Pelapor\">@{reporter}</td>\
             <td data-label=\"Batas diterima / selesai\">{ack}<br>{resolve}</td>\
             <td><details><summary>riwayat</summary><ul>{history}</ul></details></td></tr>",
            class = if t.overdue { "urgent" } else { "" },
            late = if t.overdue {
                "<span class=\"badge\">TERLAMBAT</span> "
            } else {
                ""
            },
            number = esc(&t.number),
            agency = esc(&super::words::agency(&tickets.config, &t.agency)),
            state = esc(t.state.label()),
            text = esc(&t.text),
            location = esc(t.location.as_deref().unwrap_or("-")),
            reporter = esc(&t.reporter),
            ack = esc(&super::wib_time(t.due_acknowledge)),
            resolve = esc(&super::wib_time(t.due_resolve)),
        ));
    }
    let held = tickets
        .held_notes(state.desk.store())
        .await
        .unwrap_or_default();
    let mut notes = String::new();
    for n in &held {
        notes.push_str(&format!(
            "<li><strong>{number}</strong> · {by} · {at}\
             <form method=\"post\" action=\"/ticket-notes/{id}/approve\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <textarea name=\"text\" rows=\"2\">{note}</textarea>\
             <button type=\"submit\">Teruskan ke pelapor</button></form>\
             <form method=\"post\" action=\"/ticket-notes/{id}/drop\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">Jangan teruskan</button></form></li>",
            id = n.id,
            number = esc(&n.number),
            by = esc(&n.by),
            at = esc(&super::wib_time(n.created_at)),
            note = esc(&n.note),
            csrf = esc(&session.csrf),
        ));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(
            "<section class=\"held-notes\"><h2>Kabar instansi menunggu persetujuan ({})</h2><ul>{notes}</ul></section>",
            held.len()
        )
    };
    let body = format!(
        "{notes}<form method=\"get\" action=\"/tickets\" class=\"filters\"><select name=\"agency\">{options}</select> \
         <select name=\"state\">{states}</select> <button type=\"submit\">Tampilkan</button></form>{table}",
        table = if list.is_empty() {
            "<p class=\"empty\">Tidak ada laporan.</p>".to_owned()
        } else {
            format!(
                "<table class=\"stack\"><thead><tr><th>Nomor</th><th>Instansi</th><th>Status</th><th>Laporan</th>\
                 <th>Pelapor</th><th>Batas diterima / selesai</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
            )
        }
    );
    layout("Laporan ke instansi", Some(&session), None, &body).into_response()
}

#[derive(Deserialize)]
pub struct TicketForm {
    csrf: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    note: String,
    /// Where to come back to with a notice (a conversation's page); the tickets page otherwise.
    #[serde(default)]
    back: String,
    #[serde(default)]
    place: String,
}

/// Staff act on a ticket from the tickets page: send a rejected one to another agency
/// (`reroute`), reopen a resolved one with a reason for the agency (`reopen`), or correct its
/// place (`place`).
pub async fn ticket_act(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path((number, action)): Path<(String, String)>,
    Form(form): Form<TicketForm>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let Some(tickets) = &state.tickets else {
        return Redirect::to("/tickets").into_response();
    };
    let by = &session.actor.name;
    let result = match action.as_str() {
        "reroute" => tickets
            .reroute(state.desk.store(), &number, &form.agency, by, false)
            .await
            .map_err(super::ApiError::from),
        "reopen" => super::api::reopen_ticket(tickets, &state, &number, by, &form.note).await,
        "place" => tickets
            .correct_place(state.desk.store(), &number, &form.place, by)
            .await
            .map_err(super::ApiError::from),
        _ => Err(super::ApiError::NotFound("halaman tidak ditemukan".into())),
    };
    match result {
        Ok(ticket) => {
            state.desk.notify();
            let done = match action.as_str() {
                "reroute" => format!(
                    "Laporan {} dialihkan ke {}.",
                    ticket.number,
                    super::words::agency(&tickets.config, &ticket.agency)
                ),
                "place" => format!(
                    "Lokasi laporan {} diubah menjadi {}.",
                    ticket.number,
                    ticket.location.as_deref().unwrap_or("-")
                ),
                _ => format!("Laporan {} dibuka kembali.", ticket.number),
            };
            let back = if form.back.starts_with("/conversations/") {
                form.back.clone()
            } else {
                format!("/tickets?state={}", ticket.state.as_str())
            };
            super::pages::back_with(&state, &session, &back, &done).await
        }
        Err(
            super::ApiError::NotFound(message)
            | super::ApiError::Conflict(message)
            | super::ApiError::BadRequest(message),
        ) => layout(
            "Laporan",
            Some(&session),
            Some(&message),
            "<p><a href=\"/tickets\">Kembali</a></p>",
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct NoteForm {
    csrf: String,
    #[serde(default)]
    text: String,
    /// Where to come back to with a notice (a conversation's page); the tickets page otherwise.
    #[serde(default)]
    back: String,
}

/// Staff approve (perhaps edited) or drop an agency's held note, from the tickets page or a
/// conversation's.
pub async fn note_act(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<NoteForm>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let Some(tickets) = &state.tickets else {
        return Redirect::to("/tickets").into_response();
    };
    let decision = match action.as_str() {
        "approve" => crate::tickets::NoteDecision::Approve(Some(form.text.as_str())),
        "drop" => crate::tickets::NoteDecision::Drop,
        _ => return super::ApiError::NotFound("halaman tidak ditemukan".into()).into_response(),
    };
    match tickets
        .decide_note(state.desk.store(), id, &session.actor.name, decision)
        .await
    {
        Ok(_) => {
            state.desk.notify();
            if form.back.starts_with("/conversations/") {
                let done = if action == "approve" {
                    "Kabar instansi diteruskan ke pelapor."
                } else {
                    "Kabar instansi tidak diteruskan."
                };
                super::pages::back_with(&state, &session, &form.back, done).await
            } else {
                Redirect::to("/tickets").into_response()
            }
        }
        Err(
            e @ (crate::tickets::TicketError::NoteDecided(_)
            | crate::tickets::TicketError::NoteNotFound(_)),
        ) => layout(
            "Laporan",
            Some(&session),
            Some(&e.to_string()),
            "<p><a href=\"/tickets\">Kembali</a></p>",
        )
        .into_response(),
        Err(e) => super::ApiError::from(e).into_response(),
    }
}
